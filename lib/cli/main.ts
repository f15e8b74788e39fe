/**
 * duplex-peer: netcat over WebRTC, with peers found by id through a PeerServer.
 *
 *   duplex-peer server [--port 9000]
 *   duplex-peer receive [--id ID] [--server URL] [> FILE]
 *   duplex-peer send FILE [--to ID] [--server URL]
 *   duplex-peer room ROOM [--name NAME] [--server URL]
 *   duplex-peer help [COMMAND]
 *
 * One side waits under an id, the other connects to that id (`send --to` or
 * `receive --from`). The file travels over a WebRTC data channel; the
 * receiver checks its SHA-256 on arrival. Progress goes to stderr.
 *
 * This module parses the command line and runs the command; bin/duplex-peer.js
 * calls {@link main}. Each command is in its own module.
 */
import * as fs from 'fs'
import * as path from 'path'
import { CliError, EXIT, messageOf, type ExitCode } from './errors'
import { exit, fail } from './exit'
import { parseCommandLine, type CliValues, type CommandLine } from './options'
import { USAGE, commandName, commandUsage, type CommandName } from './usage'
import { serve } from './server'
import { send } from './send'
import { receive } from './receive'
import { room } from './room'
import { help } from './help'

/** A command: resolves (or returns) with the status to exit with, or nothing to let the process end by itself. */
type Command = (values: CliValues, rest: string[]) => Promise<ExitCode> | void

const COMMANDS: Readonly<Record<CommandName, Command>> = {
  server: serve,
  send,
  receive,
  room,
  help: (_values, rest) => help(rest)
}

/**
 * Runs the `duplex-peer` command with `argv` (the arguments after the
 * script's name). Output, errors and the exit status are the command's: this
 * sets `process.exitCode` (or ends the process) and returns at once, before
 * an asynchronous command is done.
 */
export function main (argv: string[]): void {
  let parsed: CommandLine
  try {
    parsed = parseCommandLine(argv)
  } catch (err) {
    return fail(new CliError(`${messageOf(err)}\n\n${USAGE}`, EXIT.USAGE))
  }
  const { values, positionals } = parsed
  if (values.version) {
    process.stdout.write(version() + '\n')
    return
  }
  const [given, ...rest] = positionals
  const command = given === undefined ? undefined : commandName(given)
  if (values.help || given === undefined) {
    // COMMAND --help is `help COMMAND`; an unknown COMMAND with --help gets the general usage.
    process.stdout.write((command ? commandUsage(command) : USAGE) + '\n')
    if (!values.help) process.exitCode = EXIT.USAGE
    return
  }
  if (!command) return fail(new CliError(`Unknown command "${given}"\n\n${USAGE}`, EXIT.USAGE))
  void execute(COMMANDS[command], values, rest)
}

/** Runs `run`, then exits with the status it gives (if any), or fails with what it throws. */
async function execute (run: Command, values: CliValues, rest: string[]): Promise<void> {
  let code: ExitCode | void
  try {
    code = await run(values, rest)
  } catch (err) {
    return fail(err)
  }
  if (typeof code === 'number') exit(code)
}

/** The package's version, from its package.json (three levels up from dist/lib/cli/). */
function version (): string {
  const file = path.join(__dirname, '..', '..', '..', 'package.json')
  const pkg: unknown = JSON.parse(fs.readFileSync(file, 'utf8'))
  if (pkg === null || typeof pkg !== 'object' || !('version' in pkg) || typeof pkg.version !== 'string') throw new Error(`No version in ${file}`)
  return pkg.version
}

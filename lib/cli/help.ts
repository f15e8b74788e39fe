/** `duplex-peer help [COMMAND]`: the general usage, or one command's. */
import { CliError, EXIT } from './errors'
import { USAGE, COMMAND_NAMES, commandName, commandUsage } from './usage'

/**
 * Prints the general usage on stdout, or with a COMMAND (`rest[0]`) that
 * command's. An unknown COMMAND, or more than one, is a usage error.
 */
export function help (rest: string[]): void {
  if (rest.length > 1) throw new CliError(`help takes one COMMAND at most, got ${rest.length}: ${rest.join(' ')}\n\n${USAGE}`, EXIT.USAGE)
  const [asked] = rest
  if (asked === undefined) {
    process.stdout.write(USAGE + '\n')
    return
  }
  const command = commandName(asked)
  if (!command) throw new CliError(`help: unknown command "${asked}" (the commands are ${COMMAND_NAMES.join(', ')})\n\n${USAGE}`, EXIT.USAGE)
  process.stdout.write(commandUsage(command) + '\n')
}

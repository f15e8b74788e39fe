/** The command line: the options every command shares, and their parsed values. */
import { parseArgs, type ParseArgsConfig } from 'util'

/** The signaling server used without `--server` and `$DUPLEX_PEER_SERVER`. */
export const DEFAULT_SERVER = 'http://127.0.0.1:9000/'

/**
 * Every option of every command. They are parsed together, before the
 * command is known, so each command accepts (and ignores) the others' options.
 */
const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  path: { type: 'string' },
  key: { type: 'string', short: 'k' },
  'allow-discovery': { type: 'boolean' },
  'expire-timeout': { type: 'string' },
  demo: { type: 'boolean' },
  name: { type: 'string', short: 'n' },
  redis: { type: 'string' },
  'redis-lease': { type: 'string' },
  server: { type: 'string', short: 's' },
  id: { type: 'string' },
  to: { type: 'string' },
  from: { type: 'string' },
  out: { type: 'string', short: 'o' },
  'no-stun': { type: 'boolean' },
  stripes: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' }
} as const satisfies NonNullable<ParseArgsConfig['options']>

/** The options given on the command line (absent ones are `undefined`). */
export interface CliValues {
  /** `server`: `--port`, as given. */
  port?: string
  /** `server`: `--host`. */
  host?: string
  /** `server`: `--path`. */
  path?: string
  /** `server`: `--key`. */
  key?: string
  /** `server`: `--allow-discovery`. */
  'allow-discovery'?: boolean
  /** `server`: `--expire-timeout`, as given. */
  'expire-timeout'?: string
  /** `server`: `--demo`, also serve the demo page. */
  demo?: boolean
  /** `room`: `--name`, the name the others see. */
  name?: string
  /** `server`: `--redis URL`, the cluster's Redis. */
  redis?: string
  /** `server`: `--redis-lease`, as given. */
  'redis-lease'?: string
  /** `send`, `receive`, `room`: `--server URL`. */
  server?: string
  /** `send`, `receive`: `--id`, the id to wait under. */
  id?: string
  /** `send`: `--to`, the waiting receiver. */
  to?: string
  /** `receive`: `--from`, the waiting sender. */
  from?: string
  /** `receive`: `--out FILE`. */
  out?: string
  /** `send`, `receive`: `--no-stun`. */
  'no-stun'?: boolean
  /** `send`, `receive`: `--stripes`, as given (`N` or `auto`). */
  stripes?: string
  /** `--quiet`. */
  quiet?: boolean
  /** `--help`. */
  help?: boolean
  /** `--version`. */
  version?: boolean
}

/** A parsed command line. */
export interface CommandLine {
  /** The options. */
  values: CliValues
  /** The command, then its arguments (e.g. `['send', 'photo.jpg']`). */
  positionals: string[]
}

/** Parses `argv` (without node and the script). Throws `parseArgs`'s errors on unknown options or missing values. */
export function parseCommandLine (argv: string[]): CommandLine {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS })
  return { values, positionals }
}

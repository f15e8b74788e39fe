/** Exit statuses of the `duplex-peer` command, and the error that carries one. */

/** The exit statuses of `duplex-peer`, as its usage text lists them. */
export const EXIT = {
  /** Done: the file was sent and confirmed, received and verified, or the server stopped. */
  OK: 0,
  /** The transfer failed: connection lost, checksum mismatch, unwritable output... */
  FAILED: 1,
  /** Bad usage, or a file that cannot be read. */
  USAGE: 2,
  /** The signaling server cannot be reached, refused (e.g. the id is taken), or cannot start. */
  SERVER: 3,
  /** The peer is not connected to the signaling server, or no WebRTC connection could be made. */
  PEER: 4
} as const

/** One of {@link EXIT}'s values. */
export type ExitCode = typeof EXIT[keyof typeof EXIT]

/**
 * A failure the command explains in one message, with the status to exit
 * with. Anything else that is thrown is a bug: it is shown with its stack
 * and exits with {@link EXIT.FAILED}.
 */
export class CliError extends Error {
  /** The exit status. */
  readonly code: ExitCode

  /** `message` is printed after `duplex-peer: `; `code` is the exit status. */
  constructor (message: string, code: ExitCode) {
    super(message)
    this.name = 'CliError'
    this.code = code
  }
}

/** The `code` of a Node system error (e.g. `'ENOENT'`), if `err` has one. */
export function systemErrorCode (err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code
  return undefined
}

/** The message of `err`, whatever was thrown. */
export function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

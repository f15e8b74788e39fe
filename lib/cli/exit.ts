/** Ending the process: the peers to close first, and how failures are reported. */
import type { Peer } from '../../peerjs'
import { CliError, EXIT, type ExitCode } from './errors'

/** Peers to close before exiting. */
const peers = new Set<Peer>()

/** Has `peer` destroyed when the command exits. */
export function closeOnExit (peer: Peer): void {
  peers.add(peer)
}

/**
 * Ends the process with `code`. Peers are destroyed and the process is left
 * to exit by itself once they have closed: calling process.exit() while
 * @roamhq/wrtc is still tearing a connection down can crash it. A timer
 * forces the exit if something still holds the process after a while.
 */
export function exit (code: ExitCode): void {
  process.exitCode = code
  for (const peer of peers) peer.destroy()
  peers.clear()
  setTimeout(() => process.exit(code), 5000).unref()
}

/**
 * Reports `err` on stderr and exits: a {@link CliError} with its message and
 * code, anything else (a bug) with its stack and {@link EXIT.FAILED}.
 */
export function fail (err: unknown): void {
  const explained = err instanceof CliError
  const text = explained ? err.message : err instanceof Error && err.stack ? err.stack : String(err)
  process.stderr.write(`duplex-peer: ${text}\n`)
  exit(explained ? err.code : EXIT.FAILED)
}

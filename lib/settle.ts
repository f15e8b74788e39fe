/**
 * Waiting for the transport to settle before a close: after `end()` without
 * a duplex-peer on the other end (nobody confirms receipt), the channel's
 * buffer is empty long before the SCTP stack below has sent everything (see
 * {@link SETTLE_INTERVAL}).
 */
import { SETTLE_INTERVAL, SETTLE_FRAMING, SETTLE_QUIET, SETTLE_TIMEOUT } from './constants'
import { collectStats, transportProgress } from './stats'
import { call, rethrow } from './util'

/** What the wait needs from its peer. */
export interface SettleHost {
  /** The connection; `null` once it is gone, which ends the wait. */
  readonly pc: RTCPeerConnection | null
  /** Whether the peer was destroyed, which ends the wait. */
  readonly stopped: boolean
  /** Payload bytes the channel was given in all. */
  readonly payloadBytes: number
  debug (format: string, ...args: unknown[]): void
  /** Runs `fn` after `ms` ms, on a timer that the peer's teardown cancels. */
  later (ms: number, fn: () => void): void
}

/** What the wait has seen so far. */
interface Progress {
  /** Transport bytes sent at the last reading (-1 before the first). */
  bytes: number
  /** When the byte counter last moved (ms since epoch). */
  movedAt: number
  /** When the payload was first seen out (0: not yet). */
  outAt: number
}

/**
 * Calls `done` once the transport has sent everything the channel was given
 * and then gone quiet, or gave up (see {@link SETTLE_TIMEOUT}). Media (or its
 * RTCP) on the same transport keeps the byte counter moving: with media it
 * waits at most `SETTLE_TIMEOUT` ms once the payload is out.
 */
export function settleTransport (host: SettleHost, done: () => void, seen: Progress = { bytes: -1, movedAt: Date.now(), outAt: 0 }): void {
  const pc = host.pc
  if (!pc || host.stopped) return done()
  call(() => collectStats(pc)).then(transportProgress, () => null).then(progress => {
    if (host.stopped || !progress) return done()
    const now = Date.now()
    if (progress.bytesSent !== seen.bytes) seen.movedAt = now
    seen.bytes = progress.bytesSent
    if (!seen.outAt && progress.bytesSent >= host.payloadBytes * SETTLE_FRAMING) seen.outAt = now
    const settled = seen.outAt
      ? now - seen.movedAt >= Math.max(SETTLE_QUIET, progress.rtt * 4000) || (hasMedia(pc) && now - seen.outAt >= SETTLE_TIMEOUT)
      : now - seen.movedAt >= SETTLE_TIMEOUT
    if (settled) {
      host.debug('transport settled: %d bytes sent for %d of payload', progress.bytesSent, host.payloadBytes)
      return done()
    }
    host.later(Math.max(SETTLE_INTERVAL, Math.ceil(progress.rtt * 2000)), () => settleTransport(host, done, seen))
  }).catch(rethrow)
}

/** Whether the connection carries media (any transceiver), whose packets move the transport's byte counter. */
function hasMedia (pc: RTCPeerConnection): boolean {
  try {
    return pc.getTransceivers().length > 0
  } catch {
    return true
  }
}

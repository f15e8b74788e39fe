/**
 * Reading the selected candidate pair's addresses once ICE and the channel
 * are up: the stats may not name the pair at first, so the lookup retries
 * ({@link ADDRESS_RETRIES} times, every {@link ADDRESS_RETRY_INTERVAL} ms).
 */
import { ADDRESS_RETRIES, ADDRESS_RETRY_INTERVAL } from './constants'
import { collectStats, selectedAddresses, type Addresses } from './stats'
import { call, rethrow } from './util'

/** What the lookup needs from its peer. */
export interface AddressHost {
  /** The connection; `null` once it is gone, which ends the lookup. */
  readonly pc: RTCPeerConnection | null
  /** Whether the peer was destroyed, which ends the lookup. */
  readonly stopped: boolean
  /** Runs `fn` after `ms` ms, on a timer that the peer's teardown cancels. */
  later (ms: number, fn: () => void): void
}

/**
 * Calls `done` with the addresses, or with `null` when the pair could not be
 * found after every retry. Never calls it once the peer stopped.
 */
export function lookupAddresses (host: AddressHost, done: (found: Addresses | null) => void, triesLeft = ADDRESS_RETRIES): void {
  const pc = host.pc
  if (!pc || host.stopped) return
  call(() => collectStats(pc)).then(selectedAddresses, () => null).then(found => {
    if (host.stopped) return
    if (found || triesLeft <= 0) return done(found)
    host.later(ADDRESS_RETRY_INTERVAL, () => lookupAddresses(host, done, triesLeft - 1))
  }).catch(rethrow)
}

/** Constants of striped streams (see `lib/stripes/manager.ts`). */

/** Label of a data channel that carries frames: one on the peer's own connection, one on each extra connection. */
export const STRIPE_LABEL = 'duplex-peer/stripe'
/** Version of the striping messages on the control channel. */
export const STRIPES_VERSION = 1
/** Most connections one peer may use, its own included (also the ceiling of `'auto'`). */
export const MAX_STRIPES = 8
/** How long (ms) after connecting a peer waits to learn whether the remote stripes, sending little meanwhile. */
export const STRIPE_AGREE_TIMEOUT = 1500
/** An extra connection whose channel has not opened after this long (ms) is given up. */
export const STRIPE_OPEN_TIMEOUT = 20000
/** An extra connection that stays ICE-`disconnected` this long (ms) has failed. */
export const STRIPE_DISCONNECT_TIMEOUT = 3000
/** A stripe with frames in flight whose acks have not moved for this long (ms) has failed. */
export const STRIPE_STALL_TIMEOUT = 5000
/** How often (ms) a sender looks for stalled stripes when nothing else makes it look. */
export const STRIPE_WATCH_INTERVAL = 250
/**
 * Most frames a sender has beyond the remote's last credit, and so most a
 * receiver holds: the window counts bytes, and a burst of small `send()`
 * messages would otherwise be thousands of frames.
 */
export const MAX_FRAMES_AHEAD = 8192
/** A receiver sends a credit once it has delivered this many frames since the last one (as well as every quarter window). */
export const CREDIT_FRAMES = 1024
/** Round trips below this (seconds) are loopback-class: `'auto'` never adds a connection. */
export const AUTO_MIN_RTT = 0.004
/** How often `'auto'` measures throughput (ms). */
export const AUTO_PERIOD = 500
/** Least throughput gain (fraction) for `'auto'` to keep a connection it added. */
export const AUTO_MIN_GAIN = 0.15
/** Least bytes moved in a period for `'auto'` to count the stream as busy. */
export const AUTO_BUSY_BYTES = 64 * 1024

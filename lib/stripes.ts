/**
 * Striped streams (design; not wired into `Peer` yet).
 *
 * One `Peer` stream carried over several `RTCPeerConnection`s ("stripes"), so
 * that a long or lossy path is not capped by one SCTP association's window and
 * its response to loss. Stripe 0 is the peer's own connection and data channel;
 * stripes 1..N-1 are extra connections that carry data channels only. The
 * application sees one Duplex stream and signals exactly as today.
 *
 * Baseline (bench/stripes-raw.js, raw channels, one relay per connection):
 * aggregate throughput grows with N at 25 ms one-way delay, with and without
 * 1 % loss; see that file for the figures.
 *
 * ## Agreeing on a stripe count
 *
 * Only between two duplex-peers that both have the control channel of
 * `flow.ts` (`duplex-peer/control`, JSON text). When the control channel
 * opens, each side whose `stripes` option is above 1 (or `'auto'`) sends
 * `{ t: 'stripes', v: 1, max }`. The count used is the smaller of the two
 * `max`; until a side has both its own and the remote's `stripes` message it
 * stays at 1. Fallback is therefore silent:
 * - simple-peer (either side) never opens a control channel: 1 stripe;
 * - an older duplex-peer ignores unknown `t` values (`FlowControl.onMessage`
 *   drops them) and never answers: 1 stripe;
 * - a side with `stripes: 1` (the default) sends nothing: 1 stripe, and the
 *   wire is byte-for-byte today's.
 *
 * ## Negotiating the extra connections
 *
 * Over the same control channel, so no extra signaling passes through the
 * application or its server, and no new channel has to be detected. Only the
 * peer's initiator creates stripe connections (no glare). Messages, `k` being
 * the stripe index (1..max-1), `s` a signal in simple-peer's shape:
 * - `{ t: 'stripe', k, s: { type: 'offer' | 'answer', sdp } }`
 * - `{ t: 'stripe', k, s: { type: 'candidate', candidate } }` (trickled)
 * - `{ t: 'stripe-close', k }`: the sender dropped stripe `k`.
 * A stripe connection uses the peer's `config` and `wrtc` (so tests can route
 * it through a relay) and one ordered, reliable data channel labelled
 * {@link STRIPE_LABEL}. Every field is validated (index range, string sizes,
 * known types); a bad message is a coded error in `debug` and drops that
 * stripe, never the peer and never a crash. Stripe connections carry no media
 * and are not renegotiated; an ICE failure on one is a stripe failure.
 *
 * ## Framing
 *
 * Per direction. Before striping, stripe 0 carries today's unframed messages.
 * When the sender has at least one open extra stripe, it sends
 * `{ t: 'framed', at }` on the control channel, `at` being the bytes it has
 * sent unframed on stripe 0; everything it sends after that, on any stripe, is
 * a frame. Control and data travel on different SCTP streams, so the receiver
 * cannot rely on order between them: from the moment it answers its first
 * stripe offer it holds stripe-0 messages past what it has delivered until
 * `framed` arrives, then treats the first `at` bytes as unframed and the rest
 * as frames. (The sender sends `framed` only after the answer, so the hold
 * always starts before the first frame.)
 *
 * A frame is one of today's channel messages (the sender's `chunkSize` pieces
 * of the byte stream, or one whole `send()` message) behind a header of
 * {@link FRAME_HEADER} bytes: `u32 seqHigh, u32 seqLow` (sequence number of
 * the chunk, from 0 at the switch) and `u8 flags` (bit 0: a `send()` message,
 * delivered as one `data` event; bit 1: binary vs text for messages). A
 * message travels whole on one stripe, so `send()` boundaries are kept.
 *
 * ## Scheduling
 *
 * Not round-robin: a chunk goes to the open stripe that would drain it first,
 * estimated as `(bufferedAmount + size) / rate`, `rate` being the stripe's
 * measured drain rate (bytes its `bufferedAmount` went down per second, a
 * moving average). A stripe is not eligible while its `bufferedAmount` is above
 * its own high-water mark (about `rate * 2 RTT`, between 256 KiB and 4 MiB), so
 * a slow stripe holds only its own share. The stream-wide window of `flow.ts`
 * is unchanged: credits count consumed bytes of the reassembled stream, and the
 * sender never has more than `RECEIVE_WINDOW` beyond the last credit. This also
 * bounds the receiver's out-of-order buffer and the sender's re-send buffer.
 *
 * ## Reassembly and backpressure
 *
 * The receiver puts frames from every stripe into a reorder buffer keyed by
 * sequence number and delivers the in-order prefix to the readable side
 * (`stripes/reassembly.ts`). A frame below the next expected number, or
 * already held, is a duplicate (from a re-send) and is dropped. A frame beyond
 * the window (more than `RECEIVE_WINDOW` bytes ahead of the last delivered) is
 * a protocol error: the stripe it came on is dropped. Backpressure is today's:
 * the paused reader stops credits, the sender stops at the window on all
 * stripes together.
 *
 * ## Acknowledgement, failure and re-sending
 *
 * The sender keeps every frame until it is acknowledged by the cumulative
 * `{ t: 'credit', n }` (consumed implies delivered in order); `credit` gains an
 * optional `r` (bytes delivered in order, possibly ahead of `n`) so the re-send
 * buffer can drain while the reader is paused. A stripe fails when its channel
 * or connection closes or fails, or when it stalls (its `bufferedAmount` does
 * not go down for several RTTs, at least 3 s, while frames wait on it): it is
 * closed, `stripe-close` is sent, and every unacknowledged frame last sent on
 * it is queued again, ahead of new data, on the remaining stripes. The
 * receiver drops whatever arrives twice. Losing stripe 0 (the peer's own
 * connection) ends the peer as today, since it also carries control and media.
 *
 * ## end() and destroy()
 *
 * `end()` stays lossless: `{ t: 'fin', n }` carries the total stream bytes
 * sent (unframed + framed payload), and the receiver's `finack` waits until
 * the reassembled, in-order count reaches `n`, so bytes still travelling on a
 * slow stripe are waited for. Extra stripes are closed by the initiator once
 * both directions have finished, or when either side is destroyed;
 * `destroy()` closes every stripe connection at once, and a stripe closing is
 * never a peer `close` or `error` by itself.
 *
 * ## Testing through the relay
 *
 * `Link.wrtcFor()` (test/faults/link.js) relays one connection per side: it
 * takes the first host candidate of each new ICE ufrag as the side's address,
 * so a second connection on the same side would take the relay over from the
 * first. `Links` (test/faults/links.js) gives each connection pair its own
 * relay, told apart by the ICE ufrag of the pair's offer, with its own loss
 * seed; stopping one relay (`down = true`) cuts one stripe. Each relay has
 * no bandwidth cap, so N connections are not competing for one bottleneck as
 * on a real path; the figures show what N windows buy, not fairness.
 *
 * ## `stripes: 'auto'` (later)
 *
 * Start with one stripe; never add on loopback-class round trips (RTT from
 * `getStats()` under a few ms). Add one while aggregate delivered throughput
 * over a measuring period rises by a meaningful fraction (e.g. 15 %), up to
 * {@link MAX_STRIPES}; drop the last added one when it does not. Decisions go
 * to `debug` and to `getStats()`.
 */

/** Label of the data channel on an extra stripe connection. */
export const STRIPE_LABEL = 'duplex-peer/stripe'
/** Version of the striping messages on the control channel. */
export const STRIPES_VERSION = 1
/** Most connections one peer may use, stripe 0 included. */
export const MAX_STRIPES = 8
/** Bytes of the header in front of each framed chunk. */
export const FRAME_HEADER = 9

/** The `stripes` option: a fixed count (1 = today's behaviour) or `'auto'`. */
export type StripesOption = number | 'auto'

/** Striping messages added to the control channel (see the file header). */
export type StripeControlMessage =
  | { t: 'stripes', v: number, max: number }
  | { t: 'stripe', k: number, s: StripeSignal }
  | { t: 'stripe-close', k: number }
  | { t: 'framed', at: number }

/** A signal for one stripe connection, in simple-peer's shape. */
export type StripeSignal =
  | { type: 'offer' | 'answer', sdp: string }
  | { type: 'candidate', candidate: { candidate: string, sdpMid?: string | null, sdpMLineIndex?: number | null } }

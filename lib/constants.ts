/**
 * Tunables and defaults of the engine (lib/peer.ts and its parts). The flow
 * control protocol keeps its own in flow.ts, the server and PeerJS theirs in
 * their folders.
 */

/** Default ICE servers, as simple-peer 9.x has them. */
export const DEFAULT_CONFIG = {
  iceServers: [{ urls: ['stun:stun.l.google.com:19302', 'stun:global.stun.twilio.com:3478'] }],
  sdpSemantics: 'unified-plan'
}

/** How long a non-trickle peer waits for ICE gathering before it signals anyway (ms). */
export const ICE_COMPLETE_TIMEOUT = 5000

/**
 * Above this many bytes in the channel's send buffer, writes wait.
 * Far below the 16 MiB at which libwebrtc closes a channel.
 */
export const CHANNEL_HIGH_WATER_MARK = 1024 * 1024

/** Writes resume once the channel's send buffer is at or below this (bytes). */
export const CHANNEL_LOW_WATER_MARK = 256 * 1024

/**
 * While waiting for the send buffer to drain, it is also polled this often (ms):
 * some implementations do not fire `bufferedamountlow` reliably.
 */
export const DRAIN_POLL_INTERVAL = 5

/** Largest message a byte stream sends; writes are coalesced or split to it. */
export const STREAM_CHUNK_SIZE = 64 * 1024

/** Message size assumed until the connection reports its own (RFC 8841 default). */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024

/**
 * How long ICE may stay `disconnected` before the peer gives up with
 * `ERR_ICE_CONNECTION_FAILURE` (ms). libwebrtc reports `disconnected` a few
 * seconds after the remote stops answering and `failed` only after about 18 s
 * more; a link that comes back within this time is kept.
 */
export const DISCONNECT_TIMEOUT = 5000

/** How long a graceful close may wait for the channel to close (ms). */
export const CHANNEL_CLOSE_TIMEOUT = 5000

/**
 * After `end()`, once the channel's buffer is empty, the SCTP stack below can
 * still hold about 2 MB that closing the channel would discard (libwebrtc's
 * `bufferedAmount` does not count it). Without a duplex-peer on the other end
 * to confirm receipt, the transport's byte counter is polled every
 * `SETTLE_INTERVAL` ms (or two round trips if longer; libwebrtc caches stats
 * for 50 ms): the stack is done once the transport has sent at least what the
 * channel was given plus framing ({@link SETTLE_FRAMING}) and then stood still
 * for `SETTLE_QUIET` ms, longer than SCTP's retransmission timer, so that a
 * lost last packet still goes out again. It gives up after `SETTLE_TIMEOUT`
 * ms with no progress at all, or, when the connection carries media (whose
 * packets keep the counter moving), `SETTLE_TIMEOUT` ms after the payload is out.
 */
export const SETTLE_INTERVAL = 60
/** Bytes the transport sends per payload byte, at least (SCTP and DTLS headers). */
export const SETTLE_FRAMING = 1.03
/** How long the byte counter must stand still once the payload is out (ms). */
export const SETTLE_QUIET = 1000
/** How long the settle waits with no progress, or for quiet once the payload is out, before closing anyway (ms). */
export const SETTLE_TIMEOUT = 5000

/**
 * A data channel that arrives already open gets its `open` event soon after;
 * if none comes within this many ms, the channel is taken as open anyway.
 */
export const CHANNEL_OPEN_FALLBACK = 200
/** How often, and how many times, to look for the selected candidate pair after connecting. */
export const ADDRESS_RETRY_INTERVAL = 100
export const ADDRESS_RETRIES = 20

/** Namespace of the `debug` logs. */
export const DEBUG_NAMESPACE = 'duplex-peer'

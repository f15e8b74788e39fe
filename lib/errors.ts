/**
 * Every error a peer emits or throws is an `Error` with a `code` property.
 * The codes are simple-peer 9.x's, so code written against it keeps working,
 * plus a few of our own for cases simple-peer did not handle.
 */
import errCode = require('err-code')

/** The error codes a peer uses, in one place. */
export const ErrorCode = {
  /** No WebRTC implementation was found (thrown by the constructor). */
  WEBRTC_SUPPORT: 'ERR_WEBRTC_SUPPORT',
  /** `new RTCPeerConnection(config)` threw. */
  PC_CONSTRUCTOR: 'ERR_PC_CONSTRUCTOR',
  /** `createOffer()` failed. */
  CREATE_OFFER: 'ERR_CREATE_OFFER',
  /** `createAnswer()` failed. */
  CREATE_ANSWER: 'ERR_CREATE_ANSWER',
  /** `setLocalDescription()` failed. */
  SET_LOCAL_DESCRIPTION: 'ERR_SET_LOCAL_DESCRIPTION',
  /** `setRemoteDescription()` failed: bad SDP, or an answer with no offer. */
  SET_REMOTE_DESCRIPTION: 'ERR_SET_REMOTE_DESCRIPTION',
  /** A remote ICE candidate was rejected. */
  ADD_ICE_CANDIDATE: 'ERR_ADD_ICE_CANDIDATE',
  /** ICE reached the `failed` state. */
  ICE_CONNECTION_FAILURE: 'ERR_ICE_CONNECTION_FAILURE',
  /** ICE reached the `closed` state while the peer was alive. */
  ICE_CONNECTION_CLOSED: 'ERR_ICE_CONNECTION_CLOSED',
  /** The connection reached the `failed` state. */
  CONNECTION_FAILURE: 'ERR_CONNECTION_FAILURE',
  /** `signal()` was given something that is not signaling data. */
  SIGNALING: 'ERR_SIGNALING',
  /** The data channel failed or could not send. */
  DATA_CHANNEL: 'ERR_DATA_CHANNEL',
  /** A method was called after the peer was destroyed. */
  DESTROYED: 'ERR_DESTROYED',
  /** `addTransceiver()` failed. */
  ADD_TRANSCEIVER: 'ERR_ADD_TRANSCEIVER',
  /** simple-peer's code for re-adding a removed track; kept for code that checks it, never emitted (re-adding works). */
  SENDER_REMOVED: 'ERR_SENDER_REMOVED',
  /** `addTrack()` of a track already added to that stream. */
  SENDER_ALREADY_ADDED: 'ERR_SENDER_ALREADY_ADDED',
  /** `removeTrack()` / `replaceTrack()` of a track that was never added. */
  TRACK_NOT_ADDED: 'ERR_TRACK_NOT_ADDED',
  /**
   * A track or stream made by another WebRTC implementation than the peer's
   * (e.g. a second copy of `@roamhq/wrtc`): pass that copy as the `wrtc` option.
   */
  FOREIGN_MEDIA: 'ERR_FOREIGN_MEDIA',
  /** `removeTrack()` failed inside the WebRTC implementation. */
  REMOVE_TRACK: 'ERR_REMOVE_TRACK',
  /** The WebRTC implementation has no `RTCRtpSender.replaceTrack`. */
  UNSUPPORTED_REPLACETRACK: 'ERR_UNSUPPORTED_REPLACETRACK',
  /** `send()` of a message larger than the channel's maximum message size. */
  MESSAGE_TOO_LARGE: 'ERR_MESSAGE_TOO_LARGE',
  /** `send()` of a value that is not string, Buffer, ArrayBuffer(View) or Blob. */
  INVALID_DATA: 'ERR_INVALID_DATA',
  /**
   * A striping message or frame from the remote broke the protocol (see
   * `lib/stripes/manager.ts`). Reported in `debug` and drops that stripe; never an
   * `error` event, the stream goes on.
   */
  STRIPE_PROTOCOL: 'ERR_STRIPE_PROTOCOL',
  /** `write()` after `end()` (the code Node.js streams use; the peer stays up). */
  WRITE_AFTER_END: 'ERR_STREAM_WRITE_AFTER_END'
} as const

/** One of the codes in {@link ErrorCode}. */
export type ErrorCodeValue = typeof ErrorCode[keyof typeof ErrorCode]

/** An `Error` carrying one of the peer's codes. */
export interface PeerError extends Error {
  /** The machine-readable reason, e.g. `'ERR_SET_REMOTE_DESCRIPTION'`. */
  code: ErrorCodeValue
}

/**
 * Makes a coded error. `cause` may be an `Error` from the WebRTC implementation
 * (its message is kept), a string message, or anything else that was thrown.
 */
export function makeError (cause: unknown, code: ErrorCodeValue): PeerError {
  let err: Error
  if (cause instanceof Error) {
    err = cause
  } else if (typeof cause === 'string') {
    err = new Error(cause)
  } else {
    err = new Error(describe(cause))
  }
  try {
    return errCode(err, code) as PeerError
  } catch {
    // A frozen or exotic error object: wrap it so the code can be set.
    return errCode(new Error(err.message), code) as PeerError
  }
}

function describe (value: unknown): string {
  if (value && typeof value === 'object' && 'message' in value) {
    return String(value.message)
  }
  return String(value)
}

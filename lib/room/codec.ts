/**
 * The codec layer between the signaling protocol and the driver. Every
 * signaling message a room publishes goes through `encode()`, every message
 * the driver delivers through `decode()`. The plain codec passes bytes as
 * they are; end-to-end encryption (per-pair keys, a room password) will be a
 * codec, so neither the protocol nor the drivers change when it comes.
 */

/** What a codec knows of a message besides its bytes. */
export interface CodecContext {
  /** The driver topic the message is published on, or was delivered on. */
  readonly topic: string
  /** On `encode()`: the id of the one peer the message is for, if it is addressed to one. */
  readonly to?: string
}

/** Transforms signaling messages on their way to and from the driver. */
export interface SignalingCodec {
  /** Turns a protocol message into what is published. */
  encode (message: Uint8Array, context: CodecContext): Promise<Uint8Array>
  /**
   * Turns delivered bytes back into a protocol message, or `null` if they
   * are not for this room (wrong key, tampered, replayed): dropped quietly.
   * Must not throw or reject for any input.
   */
  decode (bytes: Uint8Array, context: CodecContext): Promise<Uint8Array | null>
}

/** The codec of this version: no transformation (signaling is not encrypted yet). */
export const plainCodec: SignalingCodec = {
  encode: message => Promise.resolve(message),
  decode: bytes => Promise.resolve(bytes)
}

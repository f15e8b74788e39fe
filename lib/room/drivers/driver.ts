/**
 * The signaling driver interface: how peers of a room meet. A driver is a
 * publish/subscribe client on opaque byte messages and string topics, the
 * common ground of an in-process hub, a BroadcastChannel, a WebSocket relay,
 * Redis and NATS pub/sub. Rooms never send room names or plaintext through
 * it by design: topics are hashes, and payloads go through a codec first.
 *
 * Contract a driver must keep (write your own against it):
 * - `publish(topic, bytes)` delivers `bytes` to every current subscription
 *   of `topic` on any driver connected to the same broker, the publisher's
 *   own subscription included (rooms ignore their own messages).
 * - Messages one driver publishes on one topic arrive in the order published
 *   (Redis, NATS and a single WebSocket keep this). Delivery is at most once:
 *   a message may be lost while the driver is inactive.
 * - `onMessage` is never called synchronously inside `publish()`, and the
 *   bytes it receives belong to the receiver (never shared with the sender).
 * - Everything received is untrusted: the room parses it with bounds.
 * - `state` is `'active'` while messages flow, `'inactive'` otherwise; each
 *   change emits `state`. A room announces itself again when its driver
 *   comes back to `'active'` (messages may have been lost meanwhile).
 */

/** Whether a driver is connected to its broker. */
export type DriverState = 'active' | 'inactive'

/** Called with each message delivered on a subscribed topic. */
export type MessageHandler = (bytes: Uint8Array) => void

/** A signaling driver: publish/subscribe of byte messages on string topics. */
export interface Driver {
  /** `'active'` while connected to the broker; `'inactive'` before, between reconnections, and once closed. */
  readonly state: DriverState
  /**
   * Subscribes to `topic`: from the moment the returned promise resolves,
   * every message published on it is passed to `onMessage`. Subscribing to a
   * topic again replaces its handler.
   */
  subscribe (topic: string, onMessage: MessageHandler): Promise<void>
  /** Stops the subscription to `topic` (nothing if there is none). */
  unsubscribe (topic: string): Promise<void>
  /**
   * Publishes `bytes` on `topic`. Resolves once the broker took it (not when
   * it was delivered); rejects if the driver cannot publish (e.g. closed).
   */
  publish (topic: string, bytes: Uint8Array): Promise<void>
  /** Drops every subscription and disconnects; `state` becomes `'inactive'` for good. */
  close (): Promise<void>
  /** `state`: the driver became active or inactive. */
  on (event: 'state', listener: (state: DriverState) => void): this
  /** Removes a `state` listener. */
  off (event: 'state', listener: (state: DriverState) => void): this
}

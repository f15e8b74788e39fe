/**
 * Where the signaling server keeps who is connected and what is held for
 * peers not connected yet.
 *
 * - In one process (the default): {@link Realm} (id → client) and
 *   {@link HeldMessages}, in memory, synchronous; nothing else is loaded.
 * - Shared by several processes: a {@link SharedStore} (the Redis one is
 *   lib/server/cluster/), which owns the cluster-wide truth (which node holds
 *   which id, held messages, expiry) while each node keeps its own sockets in
 *   its {@link Realm}.
 */
import type { RelayedMessage } from './protocol'
import type { HoldRefusal } from './held'
import type { RelayBridge } from './relay'
export type { Realm } from './realm'
export type { HeldMessages } from './held'

/** What a claim of an id gave. */
export type ClaimOutcome =
  /** The id is this node's now; `held` are the messages that were waiting for it, oldest first. */
  | { status: 'claimed', held: RelayedMessage[] }
  /** Another node holds the id (with another token). */
  | { status: 'taken' }

/** What became of a message routed through the store. */
export type RouteOutcome =
  /** Sent to the node holding the recipient. */
  | 'sent'
  /** Held for the recipient, not connected anywhere. */
  | 'held'
  /** Nobody holds the recipient and the message is not one that is held (`LEAVE`, `EXPIRE`). */
  | 'dropped'
  | HoldRefusal

/** What a shared store tells the node. */
export interface SharedStoreEvents {
  /** A message for a client of this node arrived from another node (or from the expiry of held messages). */
  deliver (message: RelayedMessage): void
  /** Another node took over `id` (same id and token): this node's socket for it must close. */
  evict (id: string): void
  /** After Redis lost this node's claims, `id` could not be claimed again: another node holds it now. */
  lost (id: string): void
  /** The ids and tokens of this node's clients (to claim them again after an outage). */
  clients (): Iterable<{ readonly id: string, readonly token: string }>
}

/** The cluster-wide part of the server's state. Every method may reject when the store is unreachable. */
export interface SharedStore {
  /** Resolves once the store is reachable the first time. */
  readonly ready: Promise<void>
  /** Claims `id` for a client of this node. */
  claim (id: string, token: string): Promise<ClaimOutcome>
  /** Frees `id` if this node still holds it with `token` (best effort). */
  release (id: string, token: string): void
  /**
   * Sends `message` to the node holding its recipient, or holds it.
   * `notHere`: this node does not hold the recipient whatever the store says.
   */
  route (message: RelayedMessage, bytes: number, notHere: boolean): Promise<RouteOutcome>
  /** An id no node holds, from `generate`. */
  freshId (generate: () => string): Promise<string>
  /** The ids held by live nodes. */
  ids (): Promise<string[]>
  /** Frees this node's ids and disconnects. */
  close (): Promise<void>
  /** The room relay's link to the other nodes (`deliver` gets what they published). */
  roomBridge? (deliver: (topic: Uint8Array, payload: Uint8Array) => void): RelayBridge
}

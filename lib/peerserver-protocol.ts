/**
 * The PeerServer protocol as both ends speak it: the client
 * (`duplex-peer/peerjs`, lib/peerjs/) and the server (`duplex-peer/server`,
 * lib/server/). What the two must agree on lives here once: the message
 * types and the rule for ids.
 *
 * Plain values only, and no imports: the browser build of
 * `duplex-peer/peerjs` includes this file, and must not bring in `ws` or any
 * Node built-in. What only the server needs (its error texts, the checking of
 * client messages) stays in lib/server/protocol.ts.
 */

/** Every message type on the wire. */
export const MessageType = {
  /** Server → client: registered, the id is yours. */
  OPEN: 'OPEN',
  /** Relayed: the sender is gone (or, without `dst`, the client leaves). */
  LEAVE: 'LEAVE',
  /** Relayed: an ICE candidate. */
  CANDIDATE: 'CANDIDATE',
  /** Relayed: an SDP offer, opening a data or media connection. */
  OFFER: 'OFFER',
  /** Relayed: an SDP answer. */
  ANSWER: 'ANSWER',
  /** Server → client: a message you sent could not be delivered in time. */
  EXPIRE: 'EXPIRE',
  /** Client → server: still here. */
  HEARTBEAT: 'HEARTBEAT',
  /** Server → client: that id is in use by someone else. */
  ID_TAKEN: 'ID-TAKEN',
  /** Server → client: something was refused; `payload.msg` says what. */
  ERROR: 'ERROR'
} as const

/** One of {@link MessageType}'s values. */
export type MessageTypeValue = typeof MessageType[keyof typeof MessageType]

/**
 * Server → client: the key is wrong. Older PeerServers sent it; `peer` 1.x
 * and our server send an `ERROR` instead, but PeerJS clients still
 * understand it, and so does ours.
 */
export const LEGACY_INVALID_KEY = 'INVALID-KEY'

/** The types one client sends another through the server to set up a connection. */
export type SignalMessageType = typeof MessageType.OFFER | typeof MessageType.ANSWER | typeof MessageType.CANDIDATE

/** PeerJS's rule for ids: letters and digits, with single spaces, `_` or `-` between. */
const ID_RULE = /^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$/

/** Whether `id` follows PeerJS's rule for ids (no length limit: the server sets its own). */
export function followsIdRule (id: string): boolean {
  return ID_RULE.test(id)
}

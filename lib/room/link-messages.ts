/**
 * Control messages that keep a connected pair in step without the broker,
 * carried in `CONTROL` frames on the pair's main data channel (UTF-8 JSON
 * `{ type, ... }`, like those of control.ts, with types of their own):
 * - `rtc-signal` `{ data }`: signaling data of the pair's `Peer`
 *   (renegotiation offers and answers, candidates) once connected.
 * - `rtc-channel` `{ op: 'ask', kind, label, ...options }`: the
 *   non-initiator wants a labelled channel; the initiator allocates it.
 * - `rtc-channel` `{ op: 'open', kind, label, id, ...options }`: the
 *   initiator made the negotiated channel `id` for `label`; the other side
 *   makes its end.
 * - `rtc-channel` `{ op: 'made', kind, label, id }`: the other side made its
 *   end; the initiator sends nothing on the channel before (a message on a
 *   negotiated channel whose far end is not made yet is lost).
 * - `rtc-media` `{ op: 'add' | 'remove', label, stream }`: the sender shares
 *   (or stops sharing) the `MediaStream` of id `stream` under `label`.
 *
 * Everything received is untrusted: {@link parseLinkMessage} returns `null`
 * for anything malformed and never throws.
 */
import { parseSignal, type SignalData } from '../signal'
import { parseJsonObject } from './protocol'
import { MAX_FRAME_SIZE, encodeLabel } from './frames'

/** What a labelled channel is for: room messages (frames), or a `peer.channel()` byte stream. */
export type ChannelKind = 'frames' | 'pipe'

/** Delivery options of a labelled channel (as `RTCDataChannelInit`'s). */
export interface ChannelDelivery {
  /** Whether messages arrive in order. */
  readonly ordered: boolean
  /** Most retransmissions of a message (unreliable channel). */
  readonly maxRetransmits?: number
  /** Longest time a message is retransmitted, in ms (unreliable channel). */
  readonly maxPacketLifeTime?: number
}

/** Lowest id of a labelled channel: the `Peer`'s own channels take the low ids. */
export const FIRST_CHANNEL_ID = 512
/** Highest id of a labelled channel (libwebrtc allows ids below 1024). */
export const LAST_CHANNEL_ID = 1023

/** A message of this module. */
export type LinkMessage =
  | { readonly type: 'rtc-signal', readonly data: SignalData }
  | { readonly type: 'rtc-channel', readonly op: 'ask', readonly kind: ChannelKind, readonly label: string, readonly delivery: ChannelDelivery }
  | { readonly type: 'rtc-channel', readonly op: 'open' | 'made', readonly kind: ChannelKind, readonly label: string, readonly id: number, readonly delivery: ChannelDelivery }
  | { readonly type: 'rtc-media', readonly op: 'add' | 'remove', readonly label: string, readonly stream: string }

const encoder = new TextEncoder()

/** Serializes a message (the inverse of {@link parseLinkMessage}). */
export function encodeLinkMessage (message: LinkMessage): Uint8Array {
  if (message.type !== 'rtc-channel') return encoder.encode(JSON.stringify(message))
  const { delivery, ...rest } = message
  return encoder.encode(JSON.stringify({ ...rest, ...delivery }))
}

/** Whether `value` is a label: a string of 1 to 255 bytes of UTF-8. */
export function isLabel (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && encodeLabel(value) !== null
}

/** Whether `value` is a whole number in `[0, 65535]` (an `RTCDataChannelInit` count or time). */
function isSmallCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535
}

/**
 * Reads delivery options from an object (the application's, or a message's):
 * `ordered` (default `true`), and at most one of `maxRetransmits` and
 * `maxPacketLifeTime`. Returns what is wrong, as a string, if they are invalid.
 */
export function readDelivery (obj: Record<string, unknown>): ChannelDelivery | string {
  const { ordered, maxRetransmits, maxPacketLifeTime } = obj
  if (ordered !== undefined && typeof ordered !== 'boolean') return 'ordered must be a boolean'
  if (maxRetransmits !== undefined && !isSmallCount(maxRetransmits)) return 'maxRetransmits must be a whole number from 0 to 65535'
  if (maxPacketLifeTime !== undefined && !isSmallCount(maxPacketLifeTime)) return 'maxPacketLifeTime must be a whole number of ms from 0 to 65535'
  if (maxRetransmits !== undefined && maxPacketLifeTime !== undefined) return 'maxRetransmits and maxPacketLifeTime cannot both be set'
  const delivery: { ordered: boolean, maxRetransmits?: number, maxPacketLifeTime?: number } = { ordered: ordered ?? true }
  if (maxRetransmits !== undefined) delivery.maxRetransmits = maxRetransmits
  if (maxPacketLifeTime !== undefined) delivery.maxPacketLifeTime = maxPacketLifeTime
  return delivery
}

/** Whether a channel with these options may lose messages. */
export function isUnreliable (delivery: ChannelDelivery): boolean {
  return delivery.maxRetransmits !== undefined || delivery.maxPacketLifeTime !== undefined
}

/**
 * Reads a control payload as a message of this module, or returns `null` if
 * it is not one (another control message, or anything malformed). Never throws.
 */
export function parseLinkMessage (bytes: Uint8Array): LinkMessage | null {
  if (bytes.byteLength > MAX_FRAME_SIZE) return null
  const obj = parseJsonObject(bytes)
  if (!obj) return null
  switch (obj.type) {
    case 'rtc-signal': {
      const data = obj.data
      if (data === null || typeof data !== 'object' || Array.isArray(data) || !parseSignal(data)) return null
      return { type: 'rtc-signal', data: data as SignalData }
    }
    case 'rtc-channel': {
      if ((obj.kind !== 'frames' && obj.kind !== 'pipe') || !isLabel(obj.label)) return null
      const delivery = readDelivery(obj)
      if (typeof delivery === 'string') return null
      if (obj.op === 'ask') return { type: 'rtc-channel', op: 'ask', kind: obj.kind, label: obj.label, delivery }
      const id = obj.id
      if ((obj.op !== 'open' && obj.op !== 'made') || typeof id !== 'number' || !Number.isInteger(id) || id < FIRST_CHANNEL_ID || id > LAST_CHANNEL_ID) return null
      return { type: 'rtc-channel', op: obj.op, kind: obj.kind, label: obj.label, id, delivery }
    }
    case 'rtc-media':
      if ((obj.op !== 'add' && obj.op !== 'remove') || !isLabel(obj.label)) return null
      if (typeof obj.stream !== 'string' || obj.stream.length === 0 || obj.stream.length > 256) return null
      return { type: 'rtc-media', op: obj.op, label: obj.label, stream: obj.stream }
    default:
      return null
  }
}

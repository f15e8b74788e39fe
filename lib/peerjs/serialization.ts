/**
 * The serializations of PeerJS 1.5 data connections, as they are on the wire:
 *
 * - `binary` (the default) and `binary-utf8`: each value is BinaryPack-encoded
 *   in a binary message; above 16300 bytes it is chunked (see chunks.ts).
 * - `json`: each value is JSON, sent as UTF-8 bytes in a binary message;
 *   PeerJS refuses to send one of 16300 bytes or more.
 * - `raw` (`none` is accepted as a name for it): strings and bytes go as they are.
 *
 * In `binary` and `json`, `{ __peerData: { type: 'close' } }` asks the other
 * side to close (PeerJS's `close({ flush: true })`).
 */
import { pack, unpack, packAsync, containsBlob } from './binarypack'
import { Chunker, Reassembler, CHUNK_SIZE } from './chunks'

/** The serializations `connect()` accepts. */
export type Serialization = 'binary' | 'binary-utf8' | 'json' | 'raw' | 'none' | 'default'

/** What goes on the data channel. */
export type WireMessage = string | Uint8Array

/** What a received message turned out to be. */
export type Decoded =
  | { kind: 'data', value: unknown }
  | { kind: 'close' }
  | { kind: 'error', message: string }

/** A value that cannot be sent: PeerJS's `message-too-big`, or a type the serialization cannot carry. */
export class EncodeError extends Error {
  constructor (message: string, readonly reason: 'message-too-big' | 'invalid-data') {
    super(message)
  }
}

/** Encodes values to wire messages and back, for one connection. */
export interface Serializer {
  /** The name sent in the offer. */
  readonly name: string
  /** Whether {@link encode} needs to be awaited for this value (it holds a Blob). */
  isAsync (value: unknown): boolean
  /** The wire messages for one value. Throws {@link EncodeError}. */
  encode (value: unknown): WireMessage[]
  /** Same, reading Blobs first. */
  encodeAsync (value: unknown): Promise<WireMessage[]>
  /** What one received message means; a chunk gives nothing until the last one. */
  decode (message: WireMessage): Decoded[]
  /** The message asking the other side to close, if this serialization has one. */
  closeMessage (): WireMessage | null
}

/** Options of {@link createSerializer}. */
export interface SerializerOptions {
  /** Turns received bytes (a fresh copy) into the delivered value. Default: the `Uint8Array`. */
  bytes?: (data: Uint8Array) => unknown
  /** Most bytes held in unfinished chunked messages. Default 256 MiB. */
  maxChunkedBytes?: number
}

/** The wire name of a serialization: `none` is `raw`, `default` is `binary`. Unknown names give `null`. */
export function wireName (serialization: string | undefined): 'binary' | 'binary-utf8' | 'json' | 'raw' | null {
  switch (serialization ?? 'default') {
    case 'default':
    case 'binary': return 'binary'
    case 'binary-utf8': return 'binary-utf8'
    case 'json': return 'json'
    case 'raw':
    case 'none': return 'raw'
    default: return null
  }
}

const CLOSE = { __peerData: { type: 'close' } }
const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** A serializer for `name` (see {@link wireName}); throws a `TypeError` for an unknown one. */
export function createSerializer (name: string | undefined, options: SerializerOptions = {}): Serializer {
  const wire = wireName(name)
  const bytes = options.bytes ?? identity
  switch (wire) {
    case 'binary':
    case 'binary-utf8': return new BinarySerializer(wire, bytes, options.maxChunkedBytes ?? 256 * 1024 * 1024)
    case 'json': return new JsonSerializer()
    case 'raw': return new RawSerializer(bytes)
    default: throw new TypeError(`Unknown serialization "${String(name)}"`)
  }
}

class BinarySerializer implements Serializer {
  private readonly chunker = new Chunker()
  private readonly reassembler: Reassembler

  constructor (readonly name: string, private readonly bytes: (data: Uint8Array) => unknown, maxChunkedBytes: number) {
    this.reassembler = new Reassembler(maxChunkedBytes)
  }

  isAsync (value: unknown): boolean { return containsBlob(value) }

  encode (value: unknown): WireMessage[] {
    let packed: Uint8Array
    try {
      packed = pack(value)
    } catch (err) {
      throw new EncodeError((err as Error).message, 'invalid-data')
    }
    return packed.length > CHUNK_SIZE ? this.chunker.split(packed) : [packed]
  }

  async encodeAsync (value: unknown): Promise<WireMessage[]> {
    let packed: Uint8Array
    try {
      packed = await packAsync(value)
    } catch (err) {
      throw new EncodeError((err as Error).message, 'invalid-data')
    }
    return packed.length > CHUNK_SIZE ? this.chunker.split(packed) : [packed]
  }

  decode (message: WireMessage): Decoded[] {
    // PeerJS only sends binary here; a string is passed on as it is.
    if (typeof message === 'string') return [{ kind: 'data', value: message }]
    let value: unknown
    try {
      // Chunk pieces are read with plain Uint8Arrays, whatever `bytes` makes of user data.
      value = unpack(message, { bytes: data => data })
    } catch (err) {
      return [{ kind: 'error', message: `undecodable message: ${(err as Error).message}` }]
    }
    const peerData = isRecord(value) ? value.__peerData : undefined
    if (peerData) {
      if (isRecord(peerData) && peerData.type === 'close') return [{ kind: 'close' }]
      const result = this.reassembler.add(value as Record<string, unknown>)
      if ('error' in result) return [{ kind: 'error', message: result.error }]
      return result.done ? this.decode(result.message) : []
    }
    return [{ kind: 'data', value: this.bytes === identity ? value : mapBytes(value, this.bytes, 0) }]
  }

  closeMessage (): WireMessage { return pack(CLOSE) }
}

class JsonSerializer implements Serializer {
  readonly name = 'json'

  isAsync (): boolean { return false }

  encode (value: unknown): WireMessage[] {
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch (err) {
      throw new EncodeError((err as Error).message, 'invalid-data')
    }
    const encoded = textEncoder.encode(text ?? 'null')
    if (encoded.length >= CHUNK_SIZE) throw new EncodeError('Message too big for JSON channel', 'message-too-big')
    return [encoded]
  }

  // async without await: what encode() throws becomes a rejection.
  // eslint-disable-next-line @typescript-eslint/require-await
  async encodeAsync (value: unknown): Promise<WireMessage[]> { return this.encode(value) }

  decode (message: WireMessage): Decoded[] {
    let value: unknown
    try {
      value = JSON.parse(typeof message === 'string' ? message : textDecoder.decode(message))
    } catch {
      return [{ kind: 'error', message: 'message is not JSON' }]
    }
    if (isRecord(value) && isRecord(value.__peerData) && value.__peerData.type === 'close') return [{ kind: 'close' }]
    return [{ kind: 'data', value }]
  }

  closeMessage (): WireMessage { return textEncoder.encode(JSON.stringify(CLOSE)) }
}

class RawSerializer implements Serializer {
  readonly name = 'raw'

  constructor (private readonly bytes: (data: Uint8Array) => unknown) {}

  isAsync (value: unknown): boolean { return typeof Blob !== 'undefined' && value instanceof Blob }

  encode (value: unknown): WireMessage[] {
    if (typeof value === 'string') return [value]
    if (value instanceof Uint8Array) return [value]
    if (value instanceof ArrayBuffer) return [new Uint8Array(value)]
    if (ArrayBuffer.isView(value)) return [new Uint8Array(value.buffer, value.byteOffset, value.byteLength)]
    throw new EncodeError('The raw serialization sends strings, ArrayBuffers, typed arrays and Blobs only', 'invalid-data')
  }

  async encodeAsync (value: unknown): Promise<WireMessage[]> {
    if (typeof Blob !== 'undefined' && value instanceof Blob) return [new Uint8Array(await value.arrayBuffer())]
    return this.encode(value)
  }

  decode (message: WireMessage): Decoded[] {
    return [{ kind: 'data', value: typeof message === 'string' ? message : this.bytes(message) }]
  }

  closeMessage (): null { return null }
}

function identity<T> (value: T): T { return value }

function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array)
}

/** Applies `bytes` to every byte array inside a decoded value. */
function mapBytes (value: unknown, bytes: (data: Uint8Array) => unknown, depth: number): unknown {
  if (value instanceof Uint8Array) return bytes(value)
  if (value === null || typeof value !== 'object' || depth > 512) return value
  if (Array.isArray(value)) return value.map(item => mapBytes(item, bytes, depth + 1))
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) record[key] = mapBytes(record[key], bytes, depth + 1)
  return record
}

/**
 * PeerJS's chunking of large `binary` messages. A packed message longer than
 * {@link CHUNK_SIZE} bytes is cut into pieces of that size; each piece is sent
 * as its own packed message `{ __peerData: id, n, data, total }`, where `id`
 * numbers the chunked messages of a connection from 1, `n` is the piece's
 * index and `total` the count of pieces. The receiver puts the pieces back
 * together by index (they may arrive out of order) and decodes the whole.
 */
import { pack } from './binarypack'

/** Largest piece (bytes) of a chunked message, as in PeerJS 1.5. */
export const CHUNK_SIZE = 16300

/** Cuts packed messages into packed pieces. */
export class Chunker {
  private nextId = 1

  /** The pieces of `packed`, each ready to send. */
  split (packed: Uint8Array): Uint8Array[] {
    const id = this.nextId++
    const total = Math.ceil(packed.length / CHUNK_SIZE)
    const pieces: Uint8Array[] = []
    for (let n = 0; n < total; n++) {
      const data = packed.subarray(n * CHUNK_SIZE, Math.min(packed.length, (n + 1) * CHUNK_SIZE))
      pieces.push(pack({ __peerData: id, n, data, total }))
    }
    return pieces
  }
}

interface Partial {
  pieces: Array<Uint8Array | undefined>
  count: number
  bytes: number
}

/** What {@link Reassembler.add} made of a piece. */
export type PieceResult =
  /** More pieces are needed. */
  | { done: false }
  /** The last piece arrived: the packed message. */
  | { done: true, message: Uint8Array }
  /** The piece made no sense, or the message would be too large. */
  | { done: false, error: string }

/** Puts pieces back together. */
export class Reassembler {
  private readonly partial = new Map<number, Partial>()
  private pendingBytes = 0
  private readonly maxBytes: number

  /** @param maxBytes - most bytes held in unfinished messages */
  constructor (maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Adds a decoded piece (`{ __peerData, n, data, total }`). */
  add (piece: Record<string, unknown>): PieceResult {
    const id = piece.__peerData
    const { n, total, data } = piece
    if (typeof id !== 'number' || typeof n !== 'number' || typeof total !== 'number' ||
        !Number.isInteger(n) || !Number.isInteger(total) || total < 1 || n < 0 || n >= total ||
        !(data instanceof Uint8Array)) {
      return { done: false, error: 'malformed chunk' }
    }
    let entry = this.partial.get(id)
    if (!entry) {
      if (total * CHUNK_SIZE > this.maxBytes * 2) return { done: false, error: `chunked message of ${total} pieces is too large` }
      entry = { pieces: new Array<Uint8Array | undefined>(total), count: 0, bytes: 0 }
      this.partial.set(id, entry)
    }
    if (entry.pieces.length !== total) return { done: false, error: 'chunk count changed' }
    if (entry.pieces[n]) return { done: false }
    if (this.pendingBytes + data.length > this.maxBytes) {
      this.forget(id, entry)
      return { done: false, error: 'chunked message is too large' }
    }
    entry.pieces[n] = data
    entry.count++
    entry.bytes += data.length
    this.pendingBytes += data.length
    if (entry.count < total) return { done: false }
    this.forget(id, entry)
    const message = new Uint8Array(entry.bytes)
    let offset = 0
    for (const part of entry.pieces as Uint8Array[]) {
      message.set(part, offset)
      offset += part.length
    }
    return { done: true, message }
  }

  /** Drops unfinished messages. */
  clear (): void {
    this.partial.clear()
    this.pendingBytes = 0
  }

  private forget (id: number, entry: Partial): void {
    this.partial.delete(id)
    this.pendingBytes -= entry.bytes
  }
}

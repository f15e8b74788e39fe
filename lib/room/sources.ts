/**
 * Where the bytes of a transfer come from. Every kind of data `send()`
 * takes becomes a {@link Source}: something pulled for its next bytes only
 * when the sender needs them, and cancelled when nobody needs more.
 */
import { roomError, RoomErrorCode, type RoomError } from './errors'
import { PayloadKind, PIECE_SIZE, type PayloadKindValue } from './frames'
import { encodePayload } from './messages'
import { concatBytes } from '../util'

/** A Node `Readable` (any object that is async-iterable and has `pipe()` and `destroy()`), read as bytes. */
export interface ReadableLike extends AsyncIterable<unknown> {
  /** Present on every Node readable stream (used to recognize one). */
  pipe: (...args: never[]) => unknown
  /** Stops the stream (called when the transfer is aborted or fails). */
  destroy: (error?: Error) => unknown
}

/** The bytes of a transfer, pulled one chunk at a time. */
export interface Source {
  /** The kind the receiver reads the payload as. */
  readonly kind: PayloadKindValue
  /** Payload length, or `null` if unknown until the source ends. */
  readonly total: number | null
  /** The next bytes (maybe empty), or `null` at the end. Rejects if the source fails. */
  pull (): Promise<Uint8Array | null>
  /** Stops the source; it is not pulled again. */
  cancel (reason: Error): void
}

const encoder = new TextEncoder()

/** Bytes of a chunk from a stream: bytes as they are, strings as UTF-8; anything else is refused. */
function chunkBytes (chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk)
  if (typeof chunk === 'string') return encoder.encode(chunk)
  throw roomError('a stream sent by send() must give bytes or strings', RoomErrorCode.INVALID_DATA)
}

function isReadableLike (data: unknown): data is ReadableLike {
  if (data === null || typeof data !== 'object') return false
  const candidate = data as Partial<Record<string | symbol, unknown>>
  return typeof candidate.pipe === 'function' && typeof candidate.destroy === 'function' &&
    typeof candidate[Symbol.asyncIterator] === 'function'
}

function isWebStream (data: unknown): data is ReadableStream<unknown> {
  return data !== null && typeof data === 'object' && typeof (data as { getReader?: unknown }).getReader === 'function'
}

function isBlob (data: unknown): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob
}

/** A source of bytes held whole in memory. */
function memorySource (kind: PayloadKindValue, payload: Uint8Array): Source {
  let done = false
  return {
    kind,
    total: payload.byteLength,
    pull: () => {
      if (done) return Promise.resolve(null)
      done = true
      return Promise.resolve(payload)
    },
    cancel: () => { done = true }
  }
}

function nodeSource (stream: ReadableLike): Source {
  const iterator = stream[Symbol.asyncIterator]()
  let done = false
  return {
    kind: PayloadKind.BYTES,
    total: null,
    pull: async () => {
      if (done) return null
      const next = await iterator.next()
      if (next.done === true) {
        done = true
        return null
      }
      return chunkBytes(next.value)
    },
    cancel: reason => {
      if (done) return
      done = true
      stream.destroy(reason)
    }
  }
}

function webSource (stream: ReadableStream<unknown>, total: number | null): Source {
  const reader = stream.getReader()
  let done = false
  return {
    kind: PayloadKind.BYTES,
    total,
    pull: async () => {
      if (done) return null
      const next = await reader.read()
      if (next.done) {
        done = true
        reader.releaseLock()
        return null
      }
      return chunkBytes(next.value)
    },
    cancel: reason => {
      if (done) return
      done = true
      reader.cancel(reason).catch(() => {})
    }
  }
}

/**
 * The source of `data`: a string, bytes or a JSON value (held whole), a
 * `Blob` (its size is known), a web `ReadableStream` or a Node `Readable`
 * (of unknown length, read as needed). `null` if `data` is none of these.
 */
export function toSource (data: unknown): Source | null {
  if (isBlob(data)) return webSource(data.stream(), data.size)
  if (isWebStream(data)) return webSource(data, null)
  if (isReadableLike(data)) return nodeSource(data)
  const encoded = encodePayload(data)
  return encoded ? memorySource(encoded.kind, encoded.payload) : null
}

/**
 * One source read on behalf of several targets, cut into pieces of at most
 * {@link PIECE_SIZE} bytes. A piece is read once and kept until every target
 * has taken it; the fastest target may be at most `lead` pieces ahead of the
 * slowest, so the source is read as fast as the slowest target takes it and
 * the pieces held stay under `lead` × {@link PIECE_SIZE} bytes (a source
 * held whole in memory is only sliced, never copied).
 */
export class SharedSource {
  private readonly pieces: Uint8Array[] = []
  private base = 0
  private ended = false
  private failure: RoomError | null = null
  private reading: Promise<void> | null = null
  private readonly cursors = new Map<object, number>()
  private waiters: Array<() => void> = []
  private carry: Uint8Array[] = []
  private carried = 0

  constructor (readonly source: Source, private readonly lead: number) {}

  /** Adds a target, which starts at the first piece. */
  join (owner: object): void {
    this.cursors.set(owner, 0)
  }

  /** Removes a target; once none is left, the source is cancelled (unless it ended). */
  leave (owner: object, reason: Error): void {
    if (!this.cursors.delete(owner)) return
    this.trim()
    if (this.cursors.size === 0 && !this.ended) {
      this.ended = true
      this.source.cancel(reason)
    }
    this.wake()
  }

  /** Piece `seq` for `owner` (its next one), or `null` past the end. Rejects with the source's coded error. */
  async piece (owner: object, seq: number): Promise<Uint8Array | null> {
    for (;;) {
      if (this.failure) throw this.failure
      if (!this.cursors.has(owner)) return null
      if (seq < this.base + this.pieces.length) {
        const piece = this.pieces[seq - this.base]
        this.cursors.set(owner, seq + 1)
        this.trim()
        this.wake()
        return piece
      }
      if (this.ended) return null
      if (seq - this.slowest() >= this.lead) {
        await new Promise<void>(resolve => this.waiters.push(resolve))
        continue
      }
      if (!this.reading) {
        this.reading = this.fill().finally(() => {
          this.reading = null
          this.wake()
        })
      }
      await this.reading
    }
  }

  private slowest (): number {
    let min = Infinity
    for (const cursor of this.cursors.values()) min = Math.min(min, cursor)
    return min
  }

  private trim (): void {
    const drop = Math.min(this.slowest(), this.base + this.pieces.length) - this.base
    if (drop > 0) {
      this.pieces.splice(0, drop)
      this.base += drop
    }
  }

  private wake (): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  /** Reads until at least one whole piece is ready, or the source ends; never rejects. */
  private async fill (): Promise<void> {
    try {
      while (this.carried < PIECE_SIZE) {
        const bytes = await this.source.pull()
        if (this.ended) return
        if (bytes === null) {
          this.ended = true
          break
        }
        if (bytes.byteLength === 0) continue
        this.carry.push(bytes)
        this.carried += bytes.byteLength
      }
    } catch (err) {
      if (this.ended) return
      this.failure = (err as { code?: unknown }).code === RoomErrorCode.INVALID_DATA
        ? err as RoomError
        : roomError(`the source failed: ${err instanceof Error ? err.message : String(err)}`, RoomErrorCode.SOURCE_FAILED)
      this.ended = true
      return
    }
    const whole = this.carry.length === 1 ? this.carry[0] : concatBytes(this.carry, this.carried)
    let offset = 0
    for (; whole.byteLength - offset >= PIECE_SIZE; offset += PIECE_SIZE) this.pieces.push(whole.subarray(offset, offset + PIECE_SIZE))
    const rest = whole.subarray(offset)
    this.carry = []
    this.carried = 0
    if (rest.byteLength === 0) return
    if (this.ended) this.pieces.push(rest)
    else {
      this.carry.push(rest)
      this.carried = rest.byteLength
    }
  }
}

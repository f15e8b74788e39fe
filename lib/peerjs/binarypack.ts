/**
 * BinaryPack, the MessagePack-like encoding PeerJS uses for its `binary`
 * serialization (as in `peerjs-js-binarypack` 2.x). Type bytes:
 *
 * | byte        | value                                   |
 * |-------------|-----------------------------------------|
 * | 0x00–0x7f   | integer 0..127                          |
 * | 0xe0–0xff   | integer -32..-1                         |
 * | 0x80–0x8f   | map of 0..15 entries                    |
 * | 0x90–0x9f   | array of 0..15 items                    |
 * | 0xa0–0xaf   | bytes, 0..15 long                       |
 * | 0xb0–0xbf   | UTF-8 string, 0..15 bytes long          |
 * | 0xc0 / 0xc1 | null / undefined                        |
 * | 0xc2 / 0xc3 | false / true                            |
 * | 0xca / 0xcb | float32 / float64, big-endian           |
 * | 0xcc–0xcf   | uint8, uint16, uint32, uint64           |
 * | 0xd0–0xd3   | int8, int16, int32, int64               |
 * | 0xd8 / 0xd9 | string with uint16 / uint32 byte length |
 * | 0xda / 0xdb | bytes with uint16 / uint32 length       |
 * | 0xdc / 0xdd | array with uint16 / uint32 length       |
 * | 0xde / 0xdf | map with uint16 / uint32 length         |
 *
 * Multi-byte numbers are big-endian. Anything else decodes as `undefined`.
 */

/** Values BinaryPack carries. Byte arrays decode as `Uint8Array` (or what `bytes` makes of them). */
export type Packable =
  | null | undefined | boolean | number | string | Date
  | ArrayBuffer | ArrayBufferView
  | Packable[]
  | { [key: string]: Packable }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false })

/** Grows as values are written; one copy at the end. */
class Writer {
  private buffer = new Uint8Array(256)
  private view = new DataView(this.buffer.buffer)
  length = 0

  private reserve (bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return
    let size = this.buffer.length * 2
    while (size < this.length + bytes) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buffer.subarray(0, this.length))
    this.buffer = next
    this.view = new DataView(next.buffer)
  }

  u8 (value: number): void { this.reserve(1); this.buffer[this.length++] = value & 0xff }
  u16 (value: number): void { this.reserve(2); this.view.setUint16(this.length, value); this.length += 2 }
  u32 (value: number): void { this.reserve(4); this.view.setUint32(this.length, value); this.length += 4 }
  i32 (value: number): void { this.reserve(4); this.view.setInt32(this.length, value); this.length += 4 }
  f64 (value: number): void { this.reserve(8); this.view.setFloat64(this.length, value); this.length += 8 }
  bytes (data: Uint8Array): void { this.reserve(data.length); this.buffer.set(data, this.length); this.length += data.length }
  result (): Uint8Array { return this.buffer.slice(0, this.length) }
}

/** Encodes `value`. Throws a `TypeError` for values BinaryPack cannot carry (functions, symbols, bigints). */
export function pack (value: unknown): Uint8Array {
  const writer = new Writer()
  write(writer, value, 0)
  return writer.result()
}

const MAX_DEPTH = 512

function write (w: Writer, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new TypeError('BinaryPack: value is nested too deeply')
  switch (typeof value) {
    case 'string': return writeString(w, value)
    case 'number': return writeNumber(w, value)
    case 'boolean': return w.u8(value ? 0xc3 : 0xc2)
    case 'undefined': return w.u8(0xc0)
    case 'object': break
    default: throw new TypeError(`BinaryPack: type "${typeof value}" is not supported`)
  }
  if (value === null) return w.u8(0xc0)
  if (value instanceof ArrayBuffer) return writeBytes(w, new Uint8Array(value))
  if (ArrayBuffer.isView(value)) return writeBytes(w, new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
  if (Array.isArray(value)) {
    writeHeader(w, value.length, 0x90, 0xdc, 0xdd)
    for (const item of value) write(w, item, depth + 1)
    return
  }
  if (value instanceof Date) return writeString(w, value.toString())
  if (typeof Blob !== 'undefined' && value instanceof Blob) throw new TypeError('BinaryPack: a Blob must be read first (see packAsync)')
  const keys = Object.keys(value)
  writeHeader(w, keys.length, 0x80, 0xde, 0xdf)
  for (const key of keys) {
    writeString(w, key)
    write(w, (value as Record<string, unknown>)[key], depth + 1)
  }
}

function writeHeader (w: Writer, length: number, fix: number, op16: number, op32: number): void {
  if (length <= 0x0f) w.u8(fix + length)
  else if (length <= 0xffff) { w.u8(op16); w.u16(length) } else if (length <= 0xffffffff) { w.u8(op32); w.u32(length) } else throw new RangeError('BinaryPack: too long')
}

function writeString (w: Writer, text: string): void {
  const bytes = encoder.encode(text)
  writeHeader(w, bytes.length, 0xb0, 0xd8, 0xd9)
  w.bytes(bytes)
}

function writeBytes (w: Writer, bytes: Uint8Array): void {
  writeHeader(w, bytes.length, 0xa0, 0xda, 0xdb)
  w.bytes(bytes)
}

function writeNumber (w: Writer, n: number): void {
  // Below int32, PeerJS's int64 decoding loses precision: a float64 holds these integers exactly.
  if (!Number.isSafeInteger(n) || n < -0x80000000) {
    w.u8(0xcb)
    w.f64(n)
    return
  }
  if (n >= -32 && n <= 0x7f) w.u8(n & 0xff)
  else if (n >= 0 && n <= 0xff) { w.u8(0xcc); w.u8(n) } else if (n >= -0x80 && n < 0) { w.u8(0xd0); w.u8(n & 0xff) } else if (n >= 0 && n <= 0xffff) { w.u8(0xcd); w.u16(n) } else if (n >= -0x8000 && n < 0) { w.u8(0xd1); w.u16(n & 0xffff) } else if (n >= 0 && n <= 0xffffffff) { w.u8(0xce); w.u32(n) } else if (n >= -0x80000000 && n < 0) { w.u8(0xd2); w.i32(n) } else {
    // 64-bit: high word signed, low word unsigned.
    const high = Math.floor(n / 0x100000000)
    const low = n - high * 0x100000000
    w.u8(0xd3)
    w.i32(high)
    w.u32(low)
  }
}

/** Like {@link pack}, but first reads any `Blob` inside `value`. */
export async function packAsync (value: unknown): Promise<Uint8Array> {
  return pack(await readBlobs(value, 0))
}

async function readBlobs (value: unknown, depth: number): Promise<unknown> {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value
  if (typeof Blob !== 'undefined' && value instanceof Blob) return new Uint8Array(await value.arrayBuffer())
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value) || value instanceof Date) return value
  if (Array.isArray(value)) return Promise.all(value.map(item => readBlobs(item, depth + 1)))
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) out[key] = await readBlobs((value as Record<string, unknown>)[key], depth + 1)
  return out
}

/** Whether `value` holds a `Blob` anywhere (so {@link packAsync} is needed). */
export function containsBlob (value: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return false
  if (typeof Blob !== 'undefined' && value instanceof Blob) return true
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return false
  const items = Array.isArray(value) ? value : Object.values(value)
  return items.some(item => containsBlob(item, depth + 1))
}

/** Options of {@link unpack}. */
export interface UnpackOptions {
  /** Turns decoded bytes (a fresh copy) into the value delivered. Default: the `Uint8Array` itself. */
  bytes?: (data: Uint8Array) => unknown
}

/**
 * Decodes one value. Throws a `RangeError` for truncated or inconsistent
 * input (so a malformed message cannot allocate more than its own size).
 */
export function unpack (data: ArrayBuffer | ArrayBufferView, options: UnpackOptions = {}): unknown {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  const reader = new Reader(bytes, options.bytes ?? (b => b))
  return reader.value(0)
}

class Reader {
  private offset = 0
  private readonly view: DataView

  constructor (private readonly data: Uint8Array, private readonly makeBytes: (data: Uint8Array) => unknown) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  private need (bytes: number): number {
    const at = this.offset
    if (at + bytes > this.data.length) throw new RangeError('BinaryPack: message is truncated')
    this.offset += bytes
    return at
  }

  private u8 (): number { return this.data[this.need(1)] }
  private u16 (): number { return this.view.getUint16(this.need(2)) }
  private u32 (): number { return this.view.getUint32(this.need(4)) }

  value (depth: number): unknown {
    if (depth > MAX_DEPTH) throw new RangeError('BinaryPack: value is nested too deeply')
    const type = this.u8()
    if (type < 0x80) return type
    if (type >= 0xe0) return type - 0x100
    if (type <= 0x8f) return this.map(type & 0x0f, depth)
    if (type <= 0x9f) return this.array(type & 0x0f, depth)
    if (type <= 0xaf) return this.bytes(type & 0x0f)
    if (type <= 0xbf) return this.string(type & 0x0f)
    switch (type) {
      case 0xc0: return null
      case 0xc1: return undefined
      case 0xc2: return false
      case 0xc3: return true
      case 0xca: return this.view.getFloat32(this.need(4))
      case 0xcb: return this.view.getFloat64(this.need(8))
      case 0xcc: return this.u8()
      case 0xcd: return this.u16()
      case 0xce: return this.u32()
      case 0xcf: { const high = this.u32(); return high * 0x100000000 + this.u32() }
      case 0xd0: return this.view.getInt8(this.need(1))
      case 0xd1: return this.view.getInt16(this.need(2))
      case 0xd2: return this.view.getInt32(this.need(4))
      case 0xd3: { const high = this.view.getInt32(this.need(4)); return high * 0x100000000 + this.u32() }
      case 0xd8: return this.string(this.u16())
      case 0xd9: return this.string(this.u32())
      case 0xda: return this.bytes(this.u16())
      case 0xdb: return this.bytes(this.u32())
      case 0xdc: return this.array(this.u16(), depth)
      case 0xdd: return this.array(this.u32(), depth)
      case 0xde: return this.map(this.u16(), depth)
      case 0xdf: return this.map(this.u32(), depth)
      default: return undefined
    }
  }

  private bytes (length: number): unknown {
    const at = this.need(length)
    return this.makeBytes(this.data.slice(at, at + length))
  }

  private string (length: number): string {
    const at = this.need(length)
    return decoder.decode(this.data.subarray(at, at + length))
  }

  private array (length: number, depth: number): unknown[] {
    // Each item takes at least a byte: a length beyond what is left is a lie.
    if (length > this.data.length - this.offset) throw new RangeError('BinaryPack: array is longer than the message')
    const out = new Array<unknown>(length)
    for (let i = 0; i < length; i++) out[i] = this.value(depth + 1)
    return out
  }

  private map (length: number, depth: number): Record<string, unknown> {
    if (length * 2 > this.data.length - this.offset) throw new RangeError('BinaryPack: map is longer than the message')
    const out: Record<string, unknown> = {}
    for (let i = 0; i < length; i++) {
      const key = String(this.value(depth + 1))
      const item = this.value(depth + 1)
      // Plain data only: never let a key reach the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true })
      else out[key] = item
    }
    return out
  }
}

/** Small helpers that more than one part of duplex-peer needs. */

/**
 * `count` random digits in base `radix` (2 to 36), one random byte each (for
 * radixes that do not divide 256, the low digits come slightly more often).
 * `randomDigits(2 * n, 16)` reads like `n` random bytes in hex.
 */
export function randomDigits (count: number, radix: number): string {
  const bytes = new Uint8Array(count)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const byte of bytes) out += (byte % radix).toString(radix)
  return out
}

/** `bytes` random bytes, in hex. */
export function randomHex (bytes: number): string {
  return randomDigits(2 * bytes, 16)
}

/** Calls into the WebRTC implementation, turning a synchronous throw into a rejection. */
export function call<T> (fn: () => Promise<T> | T): Promise<T> {
  try {
    return Promise.resolve(fn())
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * Rethrows, outside any promise chain, an exception thrown by application
 * code (a listener, a write callback) called from a promise callback: it
 * surfaces as it would from a synchronous call instead of becoming an
 * unhandled rejection or being taken for a failure of the operation.
 */
export function rethrow (err: unknown): void {
  queueMicrotask(() => { throw err })
}

/** `parts` joined into one new array of `length` bytes (their total). */
export function concatBytes (parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

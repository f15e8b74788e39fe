/**
 * The little protocol of `send` and `receive` on their data channel (raw
 * serialization): JSON text messages around the file's bytes, which go as
 * binary messages.
 *
 *   sender → receiver   {"type":"file","name":...,"size":...}, the bytes, {"type":"end","size":...,"sha256":...}
 *   receiver → sender   {"type":"ok"} or {"type":"error","message":...}
 */

/** Announces the file, before its bytes. */
export interface FileHeader {
  /** Tag. */
  type: 'file'
  /** The file's name (without its directory). */
  name: string
  /** Its size in bytes. */
  size: number
}

/** Follows the bytes: what the receiver should have got. */
export interface FileEnd {
  /** Tag. */
  type: 'end'
  /** The size in bytes. */
  size: number
  /** The SHA-256 of the bytes, in hex. */
  sha256: string
}

/** The receiver's answer to {@link FileEnd}. */
export type Verdict = {
  /** The file arrived intact. */
  type: 'ok'
} | {
  /** It did not. */
  type: 'error'
  /** Why. */
  message: string
}

/** Any message of the protocol. */
export type ControlMessage = FileHeader | FileEnd | Verdict

/** Reads a text message; `null` if it is not one of the protocol (such messages are ignored). */
export function parseMessage (text: string): ControlMessage | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (value === null || typeof value !== 'object') return null
  const message: { type?: unknown, name?: unknown, size?: unknown, sha256?: unknown, message?: unknown } = value
  switch (message.type) {
    case 'file':
      return typeof message.name === 'string' && typeof message.size === 'number' ? { type: 'file', name: message.name, size: message.size } : null
    case 'end':
      return typeof message.size === 'number' && typeof message.sha256 === 'string' ? { type: 'end', size: message.size, sha256: message.sha256 } : null
    case 'ok':
      return { type: 'ok' }
    case 'error':
      return { type: 'error', message: typeof message.message === 'string' ? message.message : 'no reason given' }
    default:
      return null
  }
}

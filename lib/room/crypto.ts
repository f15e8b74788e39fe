/**
 * The cryptography of room signaling, on WebCrypto (`globalThis.crypto.subtle`:
 * Node 20+ and browsers; no dependency):
 *
 * - The **room secret**: 32 bytes derived from the room id, and from the
 *   room's `password` when there is one (PBKDF2-SHA-256, 100 000 rounds,
 *   salted with the room id); without a password, HKDF-SHA-256 of the room id.
 *   From it, by HKDF: the announce key (AES-256-GCM), the proof key
 *   (HMAC-SHA-256) and the pair salt.
 * - A **session key pair** per `Room` (ECDH P-256, the private key not
 *   extractable), made anew on each join.
 * - A **pair key** per pair of sessions: HKDF-SHA-256 of their ECDH secret,
 *   salted with the pair salt (so it depends on the room secret too), with
 *   both public keys as info; AES-256-GCM.
 *
 * Every function that takes bytes from the network returns `null` (or
 * `false`) for bad input instead of throwing.
 */

const encoder = new TextEncoder()
const PROTOCOL = 'duplex-peer/room/v1'

/** PBKDF2 rounds of a room password. */
export const PASSWORD_ROUNDS = 100_000

/** Length of a raw (uncompressed) P-256 public key, in bytes. */
export const PUBLIC_KEY_BYTES = 65

/** Length of a nonce, in bytes. */
export const NONCE_BYTES = 16

/** Length of an HMAC-SHA-256 proof, in bytes. */
export const PROOF_BYTES = 32

/** Length of an AES-GCM initialization vector, in bytes. */
const IV_BYTES = 12

/** Length of an AES-GCM tag, in bytes: a sealed box is at least `IV_BYTES + TAG_BYTES` long. */
const TAG_BYTES = 16

/** Shortest sealed box (an empty plaintext). */
export const MIN_SEALED_BYTES = IV_BYTES + TAG_BYTES

/** The keys every member of a room derives from the room id and password. */
export interface RoomKeys {
  /** AES-256-GCM key of announces. */
  readonly announce: CryptoKey
  /** HMAC-SHA-256 key of the handshake proofs. */
  readonly proof: CryptoKey
  /** Salt of the pair keys (32 bytes). */
  readonly pairSalt: Uint8Array
}

/** This side's key pair for one session (one join). */
export interface SessionKeys {
  /** The ECDH private key (not extractable). */
  readonly privateKey: CryptoKey
  /** The raw public key ({@link PUBLIC_KEY_BYTES} bytes). */
  readonly publicKey: Uint8Array
  /** The public key's fingerprint ({@link fingerprint}). */
  readonly fingerprint: string
}

function subtle (): SubtleCrypto {
  const s = globalThis.crypto?.subtle
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available: rooms need Node 20+ or a secure browser context')
  return s
}

/** Bytes of a UTF-8 string. */
export function utf8 (text: string): Uint8Array {
  return encoder.encode(text)
}

/** `n` random bytes. */
export function randomBytes (n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}

/** Base64url (no padding) of `bytes`. */
export function toBase64 (bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.byteLength; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** The bytes of a base64url string (no padding), or `null` if it is not one. Never throws. */
export function fromBase64 (text: unknown): Uint8Array | null {
  if (typeof text !== 'string' || !BASE64URL.test(text) || text.length % 4 === 1) return null
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return bytes
  } catch {
    return null
  }
}

/** Copies `bytes` into a fresh `ArrayBuffer`-backed array (what WebCrypto's types ask for). */
function own (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy
}

async function hkdfBase (secret: Uint8Array): Promise<CryptoKey> {
  return subtle().importKey('raw', own(secret), 'HKDF', false, ['deriveKey', 'deriveBits'])
}

function hkdf (info: string, salt: Uint8Array = new Uint8Array(0)): HkdfParams {
  return { name: 'HKDF', hash: 'SHA-256', salt: own(salt), info: own(utf8(`${PROTOCOL}\n${info}`)) }
}

/**
 * Derives the room keys from the room id and, if given, the password.
 * Members with the same id and password derive the same keys.
 */
export async function deriveRoomKeys (roomId: string, password?: string): Promise<RoomKeys> {
  let secret: Uint8Array
  if (password !== undefined) {
    const material = await subtle().importKey('raw', own(utf8(password)), 'PBKDF2', false, ['deriveBits'])
    secret = new Uint8Array(await subtle().deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt: own(utf8(`${PROTOCOL}\npassword\n${roomId}`)), iterations: PASSWORD_ROUNDS },
      material, 256))
  } else {
    const base = await hkdfBase(utf8(roomId))
    secret = new Uint8Array(await subtle().deriveBits(hkdf('open room'), base, 256))
  }
  const base = await hkdfBase(secret)
  const announce = await subtle().deriveKey(hkdf('announce'), base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  const proof = await subtle().deriveKey(hkdf('proof'), base, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign', 'verify'])
  const pairSalt = new Uint8Array(await subtle().deriveBits(hkdf('pair salt'), base, 256))
  return { announce, proof, pairSalt }
}

/** Makes this side's key pair for a session. */
export async function generateSessionKeys (): Promise<SessionKeys> {
  const pair = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey))
  return { privateKey: pair.privateKey, publicKey, fingerprint: await fingerprint(publicKey) }
}

/** A public key's fingerprint: the first 16 bytes of its SHA-256, in lowercase hex. */
export async function fingerprint (publicKey: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await subtle().digest('SHA-256', own(publicKey)))
  return Array.from(digest.subarray(0, 16), b => b.toString(16).padStart(2, '0')).join('')
}

/**
 * The AES-256-GCM key of a pair of sessions: both sides derive the same one
 * from their own private key and the other's public key. `null` if `remote`
 * is not a valid P-256 point. Never throws for a bad `remote`.
 */
export async function derivePairKey (local: SessionKeys, remote: Uint8Array, keys: RoomKeys): Promise<CryptoKey | null> {
  if (remote.byteLength !== PUBLIC_KEY_BYTES) return null
  let shared: ArrayBuffer
  try {
    const publicKey = await subtle().importKey('raw', own(remote), { name: 'ECDH', namedCurve: 'P-256' }, false, [])
    shared = await subtle().deriveBits({ name: 'ECDH', public: publicKey }, local.privateKey, 256)
  } catch {
    return null
  }
  const [first, second] = [toBase64(local.publicKey), toBase64(remote)].sort()
  const base = await hkdfBase(new Uint8Array(shared))
  return subtle().deriveKey(hkdf(`pair\n${first}\n${second}`, keys.pairSalt), base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
}

/** Encrypts `plaintext` with AES-GCM under `key`, authenticating `aad` too: IV then ciphertext and tag. */
export async function seal (key: CryptoKey, plaintext: Uint8Array, aad: string): Promise<Uint8Array> {
  const iv = randomBytes(IV_BYTES)
  const sealed = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: own(iv), additionalData: own(utf8(aad)) }, key, own(plaintext)))
  const out = new Uint8Array(IV_BYTES + sealed.byteLength)
  out.set(iv)
  out.set(sealed, IV_BYTES)
  return out
}

/** Decrypts what {@link seal} made; `null` if the key, the `aad` or the bytes do not match. Never throws. */
export async function open (key: CryptoKey, box: Uint8Array, aad: string): Promise<Uint8Array | null> {
  if (box.byteLength < MIN_SEALED_BYTES) return null
  try {
    return new Uint8Array(await subtle().decrypt(
      { name: 'AES-GCM', iv: own(box.subarray(0, IV_BYTES)), additionalData: own(utf8(aad)) }, key, own(box.subarray(IV_BYTES))))
  } catch {
    return null
  }
}

/** HMAC-SHA-256 of `text` under the proof key. */
export async function prove (key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await subtle().sign('HMAC', key, own(utf8(text))))
}

/** Whether `proof` is the HMAC of `text` under the proof key (compared in constant time). Never throws. */
export async function checkProof (key: CryptoKey, proof: Uint8Array, text: string): Promise<boolean> {
  if (proof.byteLength !== PROOF_BYTES) return false
  try {
    return await subtle().verify('HMAC', key, own(proof), own(utf8(text)))
  } catch {
    return false
  }
}

/** What data and media connections share: their link to the Peer, and engine error mapping. */
import type { PeerError as EngineError } from '../errors'
import type { WebRTCImplementation } from '../webrtc'
import type { Logger } from './logger'
import type { ServerMessage } from './socket'

/** What a connection needs from its {@link Peer}. @internal */
export interface ConnectionHost {
  /** `RTCPeerConnection` configuration for new connections. */
  readonly rtcConfig: RTCConfiguration | undefined
  /** WebRTC implementation to use (default: the browser's, else `@roamhq/wrtc`). */
  readonly wrtc: WebRTCImplementation | undefined
  readonly logger: Logger
  /** Sends a message to peer `dst` through the server. */
  sendSignal (dst: string, type: 'OFFER' | 'ANSWER' | 'CANDIDATE', payload: Record<string, unknown>): void
  /** Messages that arrived for `connectionId` before the connection could take them. */
  takeLostMessages (connectionId: string): ServerMessage[]
  /** The connection closed: forget it. */
  removeConnection (connection: object): void
  /** Reports a WebRTC failure on the Peer (`err.type === 'webrtc'`). */
  webrtcError (err: Error): void
}

/** How an engine failure shows in PeerJS terms. */
export type EngineFailure =
  /** SDP or candidate refused: the Peer emits `webrtc`. */
  | 'webrtc'
  /** ICE failed: the connection emits `negotiation-failed`. */
  | 'negotiation-failed'
  /** The connection broke: the connection emits `connection-closed`. */
  | 'connection-closed'

const WEBRTC_CODES = new Set([
  'ERR_PC_CONSTRUCTOR', 'ERR_CREATE_OFFER', 'ERR_CREATE_ANSWER', 'ERR_SET_LOCAL_DESCRIPTION',
  'ERR_SET_REMOTE_DESCRIPTION', 'ERR_ADD_ICE_CANDIDATE', 'ERR_SIGNALING', 'ERR_ADD_TRANSCEIVER', 'ERR_WEBRTC_SUPPORT'
])

/** Classifies an engine error. */
export function classifyEngineError (err: EngineError | Error): EngineFailure {
  const code = (err as { code?: string }).code ?? ''
  if (WEBRTC_CODES.has(code)) return 'webrtc'
  if (code === 'ERR_ICE_CONNECTION_FAILURE' || code === 'ERR_CONNECTION_FAILURE') return 'negotiation-failed'
  return 'connection-closed'
}

/** A random token of letters and digits, as PeerJS makes them. */
export function randomToken (): string {
  const bytes = new Uint8Array(8)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const byte of bytes) out += (byte % 36).toString(36)
  return out
}

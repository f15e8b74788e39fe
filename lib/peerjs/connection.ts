/** What data and media connections share: their link to the Peer, engine error reporting, connection ids. */
import { ErrorCode, type PeerError as EngineError, type ErrorCodeValue } from '../errors'
import type { WebRTCImplementation } from '../webrtc'
import type { Logger } from './logger'
import { ConnectionErrorType, type ConnectionErrorTypeValue } from './errors'
import { randomDigits } from '../util'
import type { ServerMessage } from './socket'
import type { SignalMessageType } from '../peerserver-protocol'

/** What a connection needs from its {@link Peer}. @internal */
export interface ConnectionHost {
  /** `RTCPeerConnection` configuration for new connections. */
  readonly rtcConfig: RTCConfiguration | undefined
  /** WebRTC implementation to use (default: the browser's, else `@roamhq/wrtc`). */
  readonly wrtc: WebRTCImplementation | undefined
  /** The `stripes` option of new data connections' engines (default 1). */
  readonly stripes: number | 'auto' | undefined
  readonly logger: Logger
  /** Sends a message to peer `dst` through the server. */
  sendSignal (dst: string, type: SignalMessageType, payload: Record<string, unknown>): void
  /** Messages that arrived for `connectionId` before the connection could take them. */
  takeLostMessages (connectionId: string): ServerMessage[]
  /** The connection closed: forget it. */
  removeConnection (connection: object): void
  /** Reports a WebRTC failure on the Peer (`err.type === 'webrtc'`). */
  webrtcError (err: Error): void
}

/** How an engine failure shows in PeerJS terms. */
type EngineFailure =
  /** SDP or candidate refused: the Peer emits `webrtc`. */
  | 'webrtc'
  /** ICE failed: the connection emits `negotiation-failed`. */
  | 'negotiation-failed'
  /** The connection broke: the connection emits `connection-closed`. */
  | 'connection-closed'

/** Engine codes of a WebRTC call that failed. */
const WEBRTC_CODES: ReadonlySet<string> = new Set<ErrorCodeValue>([
  ErrorCode.PC_CONSTRUCTOR, ErrorCode.CREATE_OFFER, ErrorCode.CREATE_ANSWER, ErrorCode.SET_LOCAL_DESCRIPTION,
  ErrorCode.SET_REMOTE_DESCRIPTION, ErrorCode.ADD_ICE_CANDIDATE, ErrorCode.SIGNALING, ErrorCode.ADD_TRANSCEIVER,
  ErrorCode.WEBRTC_SUPPORT
])

/** Engine codes of a connection that never came up. */
const NEGOTIATION_CODES: ReadonlySet<string> = new Set<ErrorCodeValue>([
  ErrorCode.ICE_CONNECTION_FAILURE, ErrorCode.CONNECTION_FAILURE
])

/** Classifies an engine error. */
function classifyEngineError (err: EngineError | Error): EngineFailure {
  const code = (err as { code?: string }).code ?? ''
  if (WEBRTC_CODES.has(code)) return 'webrtc'
  if (NEGOTIATION_CODES.has(code)) return 'negotiation-failed'
  return 'connection-closed'
}

/**
 * Reports an engine error of the connection to `remote` the PeerJS way: a
 * WebRTC failure on the Peer, a failed negotiation on the connection, and a
 * broken connection on the connection too, if it was open (else its `close`
 * says enough).
 */
export function reportEngineError (err: EngineError, remote: string, wasOpen: boolean, host: ConnectionHost,
  fail: (type: ConnectionErrorTypeValue, message: string) => void): void {
  const kind = classifyEngineError(err)
  if (kind === 'webrtc') host.webrtcError(err)
  else if (kind === 'negotiation-failed') fail(ConnectionErrorType.NegotiationFailed, `Negotiation of connection to ${remote} failed: ${err.message}`)
  else if (wasOpen) fail(ConnectionErrorType.ConnectionClosed, `Connection to ${remote} closed: ${err.message}`)
}

/** A random token of 8 letters and digits, as PeerJS makes them (connection ids, the Peer's token). */
export function randomToken (): string {
  return randomDigits(8, 36)
}

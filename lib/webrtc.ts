/** Finds the WebRTC implementation a peer runs on. */
import { loadNodeWebRTC } from './node-webrtc'
import { connectionClosed } from './exit'

/** The classes a peer needs from a WebRTC implementation (e.g. `@roamhq/wrtc`, or a browser's). */
export interface WebRTCImplementation {
  /** The `RTCPeerConnection` constructor. */
  RTCPeerConnection: typeof RTCPeerConnection
  /** The `RTCSessionDescription` constructor (optional: plain objects are used without it). */
  RTCSessionDescription?: typeof RTCSessionDescription
  /** The `RTCIceCandidate` constructor (optional: plain objects are used without it). */
  RTCIceCandidate?: typeof RTCIceCandidate
  /** The `MediaStreamTrack` class (optional): tracks of another class are refused with `ERR_FOREIGN_MEDIA`. */
  MediaStreamTrack?: unknown
  /** The `MediaStream` class (optional): streams of another class are refused with `ERR_FOREIGN_MEDIA`. */
  MediaStream?: unknown
}

let nodeWebRTC: WebRTCImplementation | null | undefined

/** Whether `value` has a usable `RTCPeerConnection` constructor. */
export function isWebRTCImplementation (value: unknown): value is WebRTCImplementation {
  return !!value && (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function'
}

function fromGlobal (): WebRTCImplementation | null {
  const g = globalThis as Record<string, unknown>
  const pc = g.RTCPeerConnection ?? g.mozRTCPeerConnection ?? g.webkitRTCPeerConnection
  if (typeof pc !== 'function') return null
  return {
    RTCPeerConnection: pc as typeof RTCPeerConnection,
    RTCSessionDescription: (g.RTCSessionDescription ?? g.mozRTCSessionDescription ?? g.webkitRTCSessionDescription) as typeof RTCSessionDescription | undefined,
    RTCIceCandidate: (g.RTCIceCandidate ?? g.mozRTCIceCandidate ?? g.webkitRTCIceCandidate) as typeof RTCIceCandidate | undefined
  }
}

/**
 * The implementation to use: `given` if it is one, else the global one (browsers),
 * else `@roamhq/wrtc`, loaded on first need. `null` when there is none.
 */
export function resolveWebRTC (given?: unknown): WebRTCImplementation | null {
  if (isWebRTCImplementation(given)) return given
  const global = fromGlobal()
  if (global) return global
  if (nodeWebRTC === undefined) {
    const loaded = loadNodeWebRTC()
    nodeWebRTC = isWebRTCImplementation(loaded) ? loaded : null
  }
  return nodeWebRTC
}

/**
 * Lets go of a connection: no more events from it, it is closed, and exit
 * safety (`exit.ts`) holds it only weakly from then on.
 */
export function releaseConnection (pc: RTCPeerConnection): void {
  pc.oniceconnectionstatechange = null
  pc.onicegatheringstatechange = null
  pc.onsignalingstatechange = null
  pc.onconnectionstatechange = null
  pc.onicecandidate = null
  pc.ontrack = null
  pc.ondatachannel = null
  try { pc.close() } catch { /* already closed */ }
  connectionClosed(pc)
}

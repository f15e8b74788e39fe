/**
 * Browser replacement for `node-webrtc.ts`: there is no `@roamhq/wrtc` to
 * load, the browser's own `RTCPeerConnection` is used (see `webrtc.ts`).
 * Browser builds (`npm run build:browser`, and bundlers through the
 * package's `browser` field) substitute this file, so they never include wrtc.
 */
export function loadNodeWebRTC (): unknown {
  return null
}

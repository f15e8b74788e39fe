/**
 * Checks (and one repair) made before calling into the WebRTC implementation,
 * where a bad value would otherwise reach native code. (@roamhq/wrtc, for
 * one, keeps the process alive forever after its RTCPeerConnection
 * constructor has thrown.)
 */

const ICE_URL = /^(stuns?|turns?):[^\s]+$/i

/**
 * Returns why `config` cannot be used for an RTCPeerConnection, or `null` if
 * it looks valid. Only the ICE servers are checked: the rest is left to the
 * implementation.
 */
export function checkConfiguration (config: RTCConfiguration): string | null {
  const servers: unknown = config.iceServers
  if (servers === undefined) return null
  if (!Array.isArray(servers)) return 'config.iceServers must be an array'
  for (const server of servers) {
    if (!server || typeof server !== 'object') return 'each ICE server must be an object'
    const { urls, username, credential } = server as RTCIceServer
    const list: unknown[] = Array.isArray(urls) ? urls : [urls]
    if (list.length === 0) return 'an ICE server has no urls'
    for (const url of list) {
      if (typeof url !== 'string' || !ICE_URL.test(url)) return `ICE server url is not a stun:, stuns:, turn: or turns: URL: ${String(url)}`
      if (/^turns?:/i.test(url) && (typeof username !== 'string' || typeof credential !== 'string')) {
        return `TURN server ${url} needs a username and a credential`
      }
    }
  }
  return null
}

const MEDIA_TYPES = new Set(['audio', 'video', 'application'])

/**
 * Returns why a remote SDP must not reach the implementation, or `null`.
 * @roamhq/wrtc accepts an `m=` line of an unknown media type and then
 * crashes the process in `createAnswer()`.
 */
export function checkRemoteSdp (sdp: string): string | null {
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith('m=')) continue
    const media = line.slice(2).split(' ')[0]
    if (!MEDIA_TYPES.has(media)) return `SDP has an m= line of unknown media type: ${media}`
  }
  return null
}

const CONNECTION_LINE = /^c=IN IP([46]) ([^\s/]+)/gm
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/**
 * Makes each `c=` line's address type agree with its address. Reading
 * `localDescription` from @roamhq/wrtc while ICE gathers can return a torn
 * SDP such as `c=IN IP6 192.0.2.2` (the type of one candidate, the address
 * of another), which libwebrtc then refuses on the other side ("The address
 * type is mismatching"). We no longer read it then, but simple-peer does, so
 * SDP is repaired on the way in as well as out. ICE does not use the `c=`
 * address, so setting the type right changes nothing else.
 */
export function repairConnectionLines (sdp: string): string {
  return sdp.replace(CONNECTION_LINE, (line, version: string, address: string) => {
    const actual = address.includes(':') ? '6' : IPV4.test(address) ? '4' : version
    return actual === version ? line : `c=IN IP${actual} ${address}`
  })
}

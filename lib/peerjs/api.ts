/** The PeerServer's HTTP API, as a client calls it. */
import { CLIENT_VERSION, serverOrigin, type SocketAddress } from './socket'

/** Where the HTTP API is. */
export interface ApiAddress extends SocketAddress {
  referrerPolicy?: ReferrerPolicy
}

function apiUrl (address: ApiAddress, method: string): string {
  const url = new URL(`${serverOrigin(address, 'http')}${address.path}${encodeURIComponent(address.key)}/${method}`)
  url.searchParams.set('ts', `${Date.now()}${Math.random()}`)
  url.searchParams.set('version', CLIENT_VERSION)
  return url.href
}

async function get (address: ApiAddress, method: string): Promise<Response> {
  if (typeof fetch !== 'function') throw new Error('No fetch() in this environment')
  return await fetch(apiUrl(address, method), address.referrerPolicy ? { referrerPolicy: address.referrerPolicy } : {})
}

/** Asks the server for a fresh id. Rejects with a readable reason. */
export async function retrieveId (address: ApiAddress): Promise<string> {
  let response: Response
  try {
    response = await get(address, 'id')
  } catch (err) {
    throw new Error(`Could not get an ID from the server at ${apiUrl(address, 'id').replace(/\?.*$/, '')}: ${innermostReason(err)}`, { cause: err })
  }
  if (response.status !== 200) {
    throw new Error(`Could not get an ID from the server: it answered ${response.status}` +
      (address.path === '/' ? ' (if the server is mounted at a path, give the same `path` here)' : ''))
  }
  const id = (await response.text()).trim()
  if (!id) throw new Error('Could not get an ID from the server: it sent an empty one')
  return id
}

/** Lists the connected ids (the server must allow discovery). */
export async function listAllPeers (address: ApiAddress): Promise<string[]> {
  let response: Response
  try {
    response = await get(address, 'peers')
  } catch (err) {
    throw new Error(`Could not get the list of peers from the server: ${innermostReason(err)}`, { cause: err })
  }
  if (response.status === 401) throw new Error('The server does not allow listing peers (start it with allow_discovery)')
  if (response.status !== 200) throw new Error(`Could not get the list of peers: the server answered ${response.status}`)
  const list: unknown = await response.json()
  return Array.isArray(list) ? list.filter((id): id is string => typeof id === 'string') : []
}

/** The innermost reason of a fetch failure (Node hides it in `cause`). */
function innermostReason (err: unknown): string {
  let current: unknown = err
  let text = ''
  for (let i = 0; i < 4 && current; i++) {
    const e = current as { message?: string, code?: string, cause?: unknown }
    // Whatever was thrown, as text: an object without a message reads as [object Object], as it would anywhere.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    text = e.code ? `${e.message ?? ''} (${e.code})` : (e.message ?? String(current))
    current = e.cause
  }
  return text
}

/**
 * The HTTP side of the PeerServer protocol: `GET {path}` describes the server,
 * `GET {path}/{key}/id` hands out a fresh id, `GET {path}/{key}/peers` lists
 * the connected ids when discovery is allowed. With CORS for browsers.
 */
import type { IncomingMessage, ServerResponse } from 'http'
import type { CorsOptions, ResolvedOptions } from './options'
import { Errors } from './protocol'

/** What the HTTP API needs from the server. */
export interface HttpHost {
  readonly options: ResolvedOptions
  /** A fresh id for a new client (in a cluster, once the store answered). */
  freshId (): string | Promise<string>
  /** The connected ids (in a cluster, once the store answered). */
  ids (): string[] | Promise<string[]>
}

/** Body of `GET {path}`, as `peer` 1.x sends it. */
export const SERVER_INFO = {
  name: 'PeerJS Server',
  description: 'A server side element to broker connections between PeerJS clients.',
  website: 'https://peerjs.com/'
}

/**
 * Makes the request handler. It returns `false` for a request outside
 * `path`, which is left alone (for a server shared with an application).
 */
export function createHttpHandler (host: HttpHost): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { path, key, corsOptions } = host.options
  const base = path === '/' ? '' : path
  return (req, res) => {
    let pathname: string
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname)
    } catch {
      pathname = ''
    }
    if (pathname !== base && pathname !== base + '/' && !pathname.startsWith(base + '/')) return false
    const rest = pathname.slice(base.length).replace(/^\/+/, '').replace(/\/+$/, '')
    const parts = rest === '' ? [] : rest.split('/')
    if (parts.length > 2 || (parts.length === 2 && parts[1] !== 'id' && parts[1] !== 'peers')) return false

    cors(corsOptions, req, res)
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': String(req.headers['access-control-request-headers'] ?? ''),
        'Access-Control-Max-Age': '600',
        'Content-Length': '0'
      })
      res.end()
      return true
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      respond(res, 405, 'text/plain', 'Method Not Allowed', { Allow: 'GET, HEAD, OPTIONS' })
      return true
    }
    if (parts.length === 0) {
      respond(res, 200, 'application/json; charset=utf-8', JSON.stringify(SERVER_INFO))
      return true
    }
    if (parts.length === 1) {
      respond(res, 404, 'text/plain', 'Not Found')
      return true
    }
    if (parts[0] !== key) {
      respond(res, 401, 'text/plain', Errors.INVALID_KEY)
      return true
    }
    if (parts[1] === 'id') {
      settle(() => host.freshId(), id => respond(res, 200, 'text/html; charset=utf-8', id),
        () => respond(res, 503, 'text/plain', 'Could not make an id'))
      return true
    }
    if (!host.options.allow_discovery) {
      respond(res, 401, 'text/plain', 'Unauthorized')
      return true
    }
    settle(() => host.ids(), ids => respond(res, 200, 'application/json; charset=utf-8', JSON.stringify(ids)),
      () => respond(res, 503, 'text/plain', 'Peer list unavailable'))
    return true
  }
}

/** Calls `make`; its value, sync or async, goes to `ok`, a failure to `failed`. */
function settle<T> (make: () => T | Promise<T>, ok: (value: T) => void, failed: () => void): void {
  let value: T | Promise<T>
  try {
    value = make()
  } catch {
    return failed()
  }
  if (value instanceof Promise) value.then(ok, failed)
  else ok(value)
}

/** Writes a whole response (headers only for `HEAD`). */
function respond (res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body)
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store', ...headers })
  res.end(res.req?.method === 'HEAD' ? undefined : bytes)
}

function cors (options: CorsOptions, req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin
  const allowed = options.origin ?? true
  if (allowed === false) return
  if (allowed === true) {
    res.setHeader('Access-Control-Allow-Origin', origin ?? '*')
  } else {
    const list = Array.isArray(allowed) ? allowed : [allowed]
    if (!origin || !list.includes(origin)) return
    res.setHeader('Access-Control-Allow-Origin', origin)
  }
  res.setHeader('Vary', 'Origin')
}

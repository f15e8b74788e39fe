/**
 * The demo page of `duplex-peer server --demo`: a room chat in the browser
 * (plain HTML and JavaScript from the package's demo/room/ folder, and the
 * browser build of duplex-peer/room), served at `{path}demo/`.
 */
import * as fs from 'fs'
import * as path from 'path'
import type { IncomingMessage, ServerResponse } from 'http'

/** The package's root, from dist/lib/cli/. */
const ROOT = path.join(__dirname, '..', '..', '..')

/** What the page is made of, by name under `{path}demo/`. */
const FILES: Readonly<Record<string, { file: string, type: string }>> = {
  '': { file: path.join(ROOT, 'demo', 'room', 'index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { file: path.join(ROOT, 'demo', 'room', 'app.js'), type: 'text/javascript; charset=utf-8' },
  'room.mjs': { file: path.join(ROOT, 'dist', 'browser', 'room.mjs'), type: 'text/javascript; charset=utf-8' }
}

/**
 * A request listener serving the page under `base` (the server's path, e.g.
 * `/`): `{base}demo/` and its files, and a redirect from `{base}demo`. Other
 * requests are left to the server's next listeners. Answers synchronously.
 */
export function demoHandler (base: string): (req: IncomingMessage, res: ServerResponse) => void {
  const prefix = base.replace(/\/?$/, '/') + 'demo'
  return (req, res) => {
    let pathname: string
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    } catch {
      return
    }
    if (pathname === prefix) {
      res.writeHead(302, { Location: prefix + '/', 'Content-Length': '0' })
      res.end()
      return
    }
    if (!pathname.startsWith(prefix + '/')) return
    const entry = Object.prototype.hasOwnProperty.call(FILES, pathname.slice(prefix.length + 1)) ? FILES[pathname.slice(prefix.length + 1)] : undefined
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': '9' })
      res.end('Not Found')
      return
    }
    let body: Buffer
    try {
      body = fs.readFileSync(entry.file)
    } catch {
      res.writeHead(500, { 'Content-Type': 'text/plain', 'Content-Length': '23' })
      res.end('Demo files are missing')
      return
    }
    res.writeHead(200, {
      'Content-Type': entry.type,
      'Content-Length': String(body.length),
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss: blob:; img-src 'self' blob: data:"
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}

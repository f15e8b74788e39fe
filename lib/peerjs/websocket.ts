/** The WebSocket implementation: the browser's, else the `ws` package. */

/** The part of the WebSocket API the signaling socket uses. */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code?: number, reason?: string }) => void) | null
  onerror: ((event: { message?: string, error?: unknown }) => void) | null
  send (data: string): void
  close (code?: number, reason?: string): void
}

/**
 * `readyState` of an open socket: `WebSocket.OPEN`, the same in browsers and
 * in `ws`, named here so that it can be read before either is loaded.
 */
export const WEBSOCKET_OPEN = 1

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike

let cached: WebSocketConstructor | null = null

/** The browser's `WebSocket` in a browser; `ws` in Node (where the global one may be missing or experimental). */
export function resolveWebSocket (): WebSocketConstructor {
  if (cached) return cached
  const g = globalThis as { WebSocket?: unknown, window?: unknown, document?: unknown }
  const inBrowser = typeof g.window !== 'undefined' && typeof g.document !== 'undefined'
  if (inBrowser && typeof g.WebSocket === 'function') {
    cached = g.WebSocket as WebSocketConstructor
    return cached
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('ws') as WebSocketConstructor
  } catch {
    if (typeof g.WebSocket !== 'function') throw new Error('No WebSocket implementation: install the `ws` package')
    cached = g.WebSocket as WebSocketConstructor
  }
  return cached
}

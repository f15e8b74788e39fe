/**
 * The node's two Redis connections (node-redis, loaded only here): one for
 * commands and one subscribed to the node's channel. Commands fail at once
 * while Redis is unreachable (no offline queue: a signaling message queued
 * for minutes is worse than an `ERROR` now); both reconnect on their own.
 */
import { createHash } from 'crypto'
import { requireOptional } from '../../optional'

/** The part of a node-redis client used here. */
export interface RedisClientLike {
  connect (): Promise<unknown>
  on (event: string, listener: (...args: unknown[]) => void): unknown
  sendCommand (args: Array<string | Buffer>): Promise<unknown>
  subscribe (channel: string, listener: (message: string) => void): Promise<void>
  subscribe (channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>
  unsubscribe (channel: string): Promise<void>
  unsubscribe (channel: string, listener: (message: Buffer) => void, bufferMode: true): Promise<void>
  duplicate (): RedisClientLike
  destroy (): void
  readonly isReady: boolean
}

interface RedisModuleLike {
  createClient (options: Record<string, unknown>): RedisClientLike
}

/** Delay (ms) before reconnect attempt `retries`: quick at first, then every second. */
function reconnectDelay (retries: number): number {
  return Math.min(50 * (retries + 1), 1000)
}

/** Makes a node-redis client for `url` (throws `ERR_MISSING_DEPENDENCY` without the `redis` package). */
export function createRedisClient (url: string, onError: (err: unknown) => void): RedisClientLike {
  const redis = requireOptional<RedisModuleLike>('redis', 'PeerServer option redis')
  const client = redis.createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnectDelay, connectTimeout: 5000 }
  })
  client.on('error', onError)
  return client
}

/** Runs Lua scripts by their SHA-1, loading them again after Redis forgot them (a restart). */
export class ScriptRunner {
  private readonly shas = new Map<string, string>()
  private readonly client: RedisClientLike

  constructor (client: RedisClientLike) {
    this.client = client
  }

  async run (script: string, args: Array<string | number>): Promise<unknown> {
    let sha = this.shas.get(script)
    if (!sha) {
      sha = createHash('sha1').update(script).digest('hex')
      this.shas.set(script, sha)
    }
    const argv = args.map(String)
    try {
      return await this.client.sendCommand(['EVALSHA', sha, '0', ...argv])
    } catch (err) {
      if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err
      return await this.client.sendCommand(['EVAL', script, '0', ...argv])
    }
  }
}

/**
 * Messages for peers that are not connected yet. They are held for
 * `expire_timeout` ms from the first one; if the peer connects in time it gets
 * them in order, else each sender is told with one `EXPIRE`.
 */
import type { RelayedMessage } from './protocol'

interface Queue {
  messages: RelayedMessage[]
  bytes: number
  timer: ReturnType<typeof setTimeout>
}

/** Why a message could not be held. */
export type HoldRefusal = 'queue-full' | 'server-full'

export class HeldMessages {
  private readonly queues = new Map<string, Queue>()
  private totalBytes = 0
  private readonly timeout: number
  private readonly maxPerPeer: number
  private readonly maxBytes: number
  private readonly onExpire: (dst: string, messages: RelayedMessage[]) => void

  /**
   * @param timeout - how long (ms) messages are held
   * @param maxPerPeer - most messages held for one recipient
   * @param maxBytes - most bytes held in all
   * @param onExpire - called with a recipient's messages once they expire
   */
  constructor (timeout: number, maxPerPeer: number, maxBytes: number, onExpire: (dst: string, messages: RelayedMessage[]) => void) {
    this.timeout = timeout
    this.maxPerPeer = maxPerPeer
    this.maxBytes = maxBytes
    this.onExpire = onExpire
  }

  /** Holds `message` for `message.dst`; returns why not if it cannot. */
  hold (message: RelayedMessage, bytes: number): HoldRefusal | null {
    let queue = this.queues.get(message.dst)
    if (queue && queue.messages.length >= this.maxPerPeer) return 'queue-full'
    if (this.totalBytes + bytes > this.maxBytes) return 'server-full'
    if (!queue) {
      const dst = message.dst
      const timer = setTimeout(() => this.expire(dst), this.timeout)
      if (typeof timer.unref === 'function') timer.unref()
      queue = { messages: [], bytes: 0, timer }
      this.queues.set(dst, queue)
    }
    queue.messages.push(message)
    queue.bytes += bytes
    this.totalBytes += bytes
    return null
  }

  /** Takes every message held for `dst`, oldest first. */
  take (dst: string): RelayedMessage[] {
    const queue = this.queues.get(dst)
    if (!queue) return []
    this.drop(dst, queue)
    return queue.messages
  }

  /** Forgets everything. */
  clear (): void {
    for (const [dst, queue] of this.queues) this.drop(dst, queue)
  }

  private expire (dst: string): void {
    const queue = this.queues.get(dst)
    if (!queue) return
    this.drop(dst, queue)
    this.onExpire(dst, queue.messages)
  }

  private drop (dst: string, queue: Queue): void {
    clearTimeout(queue.timer)
    this.queues.delete(dst)
    this.totalBytes -= queue.bytes
  }
}

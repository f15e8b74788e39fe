/**
 * Liveness of a connected room peer. A peer whose process was killed sends
 * nothing more, and ICE takes long to call the connection failed (seconds to
 * notice, tens of seconds to give up). So each side of a connected pair
 * sends a small `ping` control message when it has sent nothing for a
 * while, and calls the remote gone when nothing at all arrived from it for
 * `timeout` ms: a killed member leaves every other room within
 * `connectionTimeout`, with no broker involved.
 */
import { Timers } from '../timers'

/** What {@link Liveness} does when it must act. */
export interface LivenessHooks {
  /** Sends one `ping` to the remote. */
  ping (): void
  /** Nothing arrived for `timeout` ms: the remote is gone. Called once. */
  expired (silentMs: number): void
}

/** How many pings are sent in one `timeout` of silence at most (one would be lost to a single delay). */
const PINGS_PER_TIMEOUT = 4
/** Pings are never more than this apart, whatever the timeout. */
const MAX_PING_INTERVAL = 5000

/** Where the watch stands. */
type LivenessState = 'idle' | 'watching' | 'expired' | 'stopped'

/** Watches one connection: `start()` when it is connected, `heard()` for everything received, `sent()` for everything sent. */
export class Liveness {
  private state: LivenessState = 'idle'
  private lastHeard = 0
  private lastSent = 0
  private readonly interval: number
  private readonly timers = new Timers<'tick'>()

  constructor (private readonly timeout: number, private readonly hooks: LivenessHooks, private readonly now: () => number = Date.now) {
    this.interval = Math.max(1, Math.min(MAX_PING_INTERVAL, Math.floor(timeout / PINGS_PER_TIMEOUT)))
  }

  /** Starts watching (once connected). */
  start (): void {
    if (this.state !== 'idle') return
    this.state = 'watching'
    this.lastHeard = this.lastSent = this.now()
    this.schedule()
  }

  /** Something arrived from the remote. */
  heard (): void {
    this.lastHeard = this.now()
  }

  /** Something was sent to the remote (a ping is then not needed). */
  sent (): void {
    this.lastSent = this.now()
  }

  /** Stops for good (the connection ended). */
  stop (): void {
    this.state = 'stopped'
    this.timers.clearAll()
  }

  /** The next check: at the next ping, or when the silence reaches the timeout, whichever is first. */
  private schedule (): void {
    const now = this.now()
    const delay = Math.min(this.lastSent + this.interval - now, this.lastHeard + this.timeout - now)
    this.timers.set('tick', Math.max(1, delay), () => this.tick())
  }

  private tick (): void {
    if (this.state !== 'watching') return
    const now = this.now()
    const silent = now - this.lastHeard
    if (silent >= this.timeout) {
      this.state = 'expired'
      this.hooks.expired(silent)
      return
    }
    if (now - this.lastSent >= this.interval) {
      this.lastSent = now
      this.hooks.ping()
    }
    this.schedule()
  }
}

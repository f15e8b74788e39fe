/** A token bucket: `rate` messages per second on average, `burst` at once. */
export class RateLimiter {
  private tokens: number
  private last: number
  private readonly rate: number
  private readonly burst: number
  private readonly now: () => number

  /**
   * @param rate - tokens added per second
   * @param burst - most tokens held (and the starting amount)
   * @param now - clock in ms, for tests
   */
  constructor (rate: number, burst: number, now: () => number = Date.now) {
    this.rate = rate
    this.burst = burst
    this.tokens = burst
    this.now = now
    this.last = now()
  }

  /** Takes one token; `false` if there is none left. */
  take (): boolean {
    const now = this.now()
    const elapsed = Math.max(0, now - this.last)
    this.last = now
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate / 1000)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

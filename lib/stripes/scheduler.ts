/**
 * Which stripe a chunk goes on (see `lib/stripes.ts`, "Scheduling"). Pure:
 * the caller reports what it handed to each stripe and samples each
 * stripe's `bufferedAmount` with a clock reading; the scheduler estimates how
 * fast each stripe drains and picks the one that would deliver a chunk
 * first, among those under their own high-water mark.
 */

/** Tuning of a {@link StripeScheduler}. */
export interface SchedulerOptions {
  /** Drain rate assumed for a stripe before it has been measured (bytes/s). */
  initialRate: number
  /** Seconds of a stripe's drain rate it may have buffered (its high-water mark, before clamping). */
  horizon: number
  /** Bounds of a stripe's high-water mark (bytes). */
  minHighWater: number
  maxHighWater: number
  /** Weight of a new rate sample in the moving average, 0..1. */
  smoothing: number
}

/** Defaults: 1 MB/s assumed, 250 ms of buffering, between 256 KiB and 4 MiB. */
export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {
  initialRate: 1e6,
  horizon: 0.25,
  minHighWater: 256 * 1024,
  maxHighWater: 4 * 1024 * 1024,
  smoothing: 0.25
}

interface StripeState {
  handed: number
  buffered: number
  rate: number
  measured: boolean
  lastDrained: number
  lastTime: number
}

export class StripeScheduler {
  private readonly opts: SchedulerOptions
  private readonly stripes = new Map<number, StripeState>()

  constructor (options: Partial<SchedulerOptions> = {}) {
    this.opts = { ...DEFAULT_SCHEDULER_OPTIONS, ...options }
  }

  /** Starts scheduling onto stripe `id` (its channel just opened), at time `now` (ms). */
  add (id: number, now: number): void {
    if (this.stripes.has(id)) return
    this.stripes.set(id, { handed: 0, buffered: 0, rate: this.opts.initialRate, measured: false, lastDrained: 0, lastTime: now })
  }

  /** Stops scheduling onto stripe `id` (it failed or closed). */
  remove (id: number): void {
    this.stripes.delete(id)
  }

  /** Stripes being scheduled onto. */
  get ids (): number[] { return [...this.stripes.keys()] }

  /** Stripe `id` was handed `bytes` (a framed chunk). */
  handed (id: number, bytes: number): void {
    const s = this.stripes.get(id)
    if (!s) return
    s.handed += bytes
    s.buffered += bytes
  }

  /** Stripe `id`'s channel reports `bufferedAmount` at `now` (ms): updates its drain rate. */
  sample (id: number, bufferedAmount: number, now: number): void {
    const s = this.stripes.get(id)
    if (!s) return
    s.buffered = Math.max(0, Math.min(bufferedAmount, s.handed))
    const drained = s.handed - s.buffered
    const dt = (now - s.lastTime) / 1000
    if (dt <= 0) return
    const rate = (drained - s.lastDrained) / dt
    // A stripe with nothing buffered is not drained by its capacity: no sample.
    if (drained > s.lastDrained || s.buffered > 0) {
      s.rate = s.measured ? s.rate + this.opts.smoothing * (rate - s.rate) : rate
      s.measured = true
    }
    s.lastDrained = drained
    s.lastTime = now
  }

  /** Estimated drain rate of stripe `id` (bytes/s), or `null` if unknown. */
  rate (id: number): number | null {
    return this.stripes.get(id)?.rate ?? null
  }

  /** How much stripe `id` may have buffered. */
  highWater (id: number): number {
    const s = this.stripes.get(id)
    if (!s) return 0
    const { horizon, minHighWater, maxHighWater } = this.opts
    return Math.min(maxHighWater, Math.max(minHighWater, s.rate * horizon))
  }

  /**
   * The stripe for a chunk of `bytes`: the eligible one that would have it
   * drained soonest; `null` when every stripe is at its high-water mark. A
   * stripe with nothing buffered is always eligible, so a chunk larger than
   * any high-water mark still goes somewhere.
   */
  pick (bytes: number): number | null {
    let best: number | null = null
    let bestTime = Infinity
    for (const [id, s] of this.stripes) {
      if (s.buffered > 0 && s.buffered + bytes > this.highWater(id)) continue
      const time = (s.buffered + bytes) / Math.max(s.rate, 1)
      if (time < bestTime) { best = id; bestTime = time }
    }
    return best
  }
}

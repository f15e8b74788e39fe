/**
 * Which stripe a frame goes on. Pure: the caller reports what it handed to
 * each stripe and what the remote acknowledged receiving on it (stripe acks,
 * see `manager.ts`), with clock readings.
 *
 * A channel's `bufferedAmount` cannot measure a stripe: SCTP takes data off it
 * into its own queues long before it is delivered. The remote's acks can: the
 * scheduler keeps, per stripe, the bytes in flight (handed and not yet
 * acknowledged) and a delivery rate measured from the acks while the stripe
 * was busy. Each stripe may have at most its rate times {@link
 * SchedulerOptions.horizon} in flight (its cap, clamped), and a frame goes to
 * the stripe under its cap that would deliver it soonest,
 * `(inFlight + size) / rate`. So a slow or lossy stripe holds only about
 * `horizon` seconds of the stream, and a stripe that speeds up shows it
 * within one horizon. On a path whose round trip approaches the horizon, the
 * cap would fall below the bandwidth-delay product and each measurement would
 * come out lower than the last: the horizon of a stripe is therefore at least
 * twice the shortest time it took to acknowledge a frame.
 *
 * A stripe can also stall (a lost retransmission backs SCTP off for
 * seconds) while its frames hold up in-order delivery on every other stripe.
 * Once its acks have not moved for its hedge delay ({@link
 * StripeScheduler.hedgeDelayOf}), the outlet benches the stripe: it gets no
 * new frames until it has acknowledged all it was given, and its
 * unacknowledged frames are sent again on the others.
 */

/** Tuning of a {@link StripeScheduler}. */
export interface SchedulerOptions {
  /** Delivery rate assumed for a stripe before it has been measured (bytes/s). */
  initialRate: number
  /** Seconds of a stripe's delivery rate it may have in flight. */
  horizon: number
  /** Bounds of a stripe's cap (bytes). */
  minCap: number
  maxCap: number
  /** Weight of a new rate sample in the moving average, 0..1. */
  smoothing: number
  /** Shortest interval a rate sample covers (ms). */
  sampleInterval: number
  /** Least time (ms) a stripe goes with no ack moving on before its frames are sent again elsewhere. */
  hedgeDelay: number
}

/** Defaults: 1 MB/s assumed, 500 ms in flight, between 128 KiB and 8 MiB, frames of a stripe stalled over 2 s sent again elsewhere. */
export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {
  initialRate: 1e6,
  horizon: 0.5,
  minCap: 128 * 1024,
  maxCap: 8 * 1024 * 1024,
  smoothing: 0.3,
  sampleInterval: 100,
  hedgeDelay: 2000
}

interface StripeState {
  handed: number
  acked: number
  rate: number
  /** Since when the stripe has in-flight data without an ack moving on (ms), or `null`. */
  waitingSince: number | null
  sampleStart: number
  sampleAcked: number
  /** Whether the stripe stayed busy (in flight at least half its cap) since `sampleStart`. */
  sampleBusy: boolean
  /** Shortest time from handing a frame over to its ack (ms). */
  minDelay: number
  /** A frame being timed: acknowledged once `acked` reaches `target`. */
  probe: { target: number, time: number } | null
  /** Benched: stalled, so it gets no frames (unless every stripe is benched). */
  benched: boolean
}

export class StripeScheduler {
  private readonly opts: SchedulerOptions
  private readonly stripes = new Map<number, StripeState>()

  constructor (options: Partial<SchedulerOptions> = {}) {
    this.opts = { ...DEFAULT_SCHEDULER_OPTIONS, ...options }
  }

  /** Starts scheduling onto stripe `id` at time `now` (ms). */
  add (id: number, now: number): void {
    if (this.stripes.has(id)) return
    this.stripes.set(id, { handed: 0, acked: 0, rate: this.opts.initialRate, waitingSince: null, sampleStart: now, sampleAcked: 0, sampleBusy: false, minDelay: Infinity, probe: null, benched: false })
  }

  /** Stops scheduling onto stripe `id` (it failed or closed). */
  remove (id: number): void {
    this.stripes.delete(id)
  }

  /**
   * Benches stripe `id` (`true`) or brings it back (`false`): a benched
   * stripe is given no frames and counts for no room, unless every stripe is
   * benched. Its bytes in flight are still accounted as its acks come.
   */
  bench (id: number, benched: boolean): void {
    const s = this.stripes.get(id)
    if (s) s.benched = benched
  }

  /** Whether stripe `id` is benched. */
  benched (id: number): boolean {
    return this.stripes.get(id)?.benched === true
  }

  /** Bytes handed to stripe `id` so far, in all. */
  handedOf (id: number): number {
    return this.stripes.get(id)?.handed ?? 0
  }

  /** Bytes the remote acknowledged on stripe `id` so far, in all. */
  ackedOf (id: number): number {
    return this.stripes.get(id)?.acked ?? 0
  }

  /**
   * How long (ms) stripe `id` may go with bytes in flight and no ack moving
   * on ({@link StripeScheduler.waiting}) before its frames are sent again
   * elsewhere: twice the cap's worth of its rate (the horizon, or longer for
   * a slow stripe held at the least cap) plus the shortest ack delay, and at
   * least {@link SchedulerOptions.hedgeDelay}. Acks of a stripe that delivers
   * at all move every few tens of milliseconds.
   */
  hedgeDelayOf (id: number): number {
    const s = this.stripes.get(id)
    if (!s) return this.opts.hedgeDelay
    const delay = Number.isFinite(s.minDelay) ? s.minDelay : 0
    const drain = this.cap(id) / Math.max(s.rate, 1)
    return Math.max(this.opts.hedgeDelay, 2 * (1000 * drain + delay))
  }

  /** Stripes being scheduled onto. */
  get ids (): number[] { return [...this.stripes.keys()] }

  /** Stripe `id` was handed `bytes` at `now`. */
  handed (id: number, bytes: number, now: number): void {
    const s = this.stripes.get(id)
    if (!s) return
    if (s.handed === s.acked) {
      s.waitingSince = now
      // An idle stripe's next sample starts now: idle time says nothing of its rate.
      s.sampleStart = now
      s.sampleAcked = s.acked
      s.sampleBusy = true
    }
    s.handed += bytes
    if (!s.probe) s.probe = { target: s.handed, time: now }
  }

  /**
   * The remote says it received `total` bytes on stripe `id` in all, at `now`.
   * `false` if that is impossible (more than was handed, or less than before):
   * the stripe broke the protocol.
   */
  acked (id: number, total: number, now: number): boolean {
    const s = this.stripes.get(id)
    if (!s) return true
    if (!(total >= s.acked && total <= s.handed)) return false
    if (total > s.acked) s.waitingSince = total < s.handed ? now : null
    s.acked = total
    if (s.probe && total >= s.probe.target) {
      s.minDelay = Math.min(s.minDelay, now - s.probe.time)
      s.probe = null
    }
    const dt = now - s.sampleStart
    if (dt >= this.opts.sampleInterval) {
      if (s.sampleBusy) {
        const rate = (total - s.sampleAcked) * 1000 / dt
        s.rate += this.opts.smoothing * (rate - s.rate)
      }
      s.sampleStart = now
      s.sampleAcked = total
      s.sampleBusy = this.inFlight(id) >= this.cap(id) / 2
    } else if (this.inFlight(id) < this.cap(id) / 2) {
      s.sampleBusy = false
    }
    return true
  }

  /** Bytes handed to stripe `id` and not acknowledged. */
  inFlight (id: number): number {
    const s = this.stripes.get(id)
    return s ? s.handed - s.acked : 0
  }

  /** Estimated delivery rate of stripe `id` (bytes/s), or `null` if unknown. */
  rate (id: number): number | null {
    return this.stripes.get(id)?.rate ?? null
  }

  /** Seconds of its rate stripe `id` may have in flight: the horizon, or twice its shortest ack delay if longer. */
  horizonOf (id: number): number {
    const s = this.stripes.get(id)
    if (!s || !Number.isFinite(s.minDelay)) return this.opts.horizon
    return Math.max(this.opts.horizon, 2 * s.minDelay / 1000)
  }

  /** How much stripe `id` may have in flight. */
  cap (id: number): number {
    const s = this.stripes.get(id)
    if (!s) return 0
    const { minCap, maxCap } = this.opts
    return Math.min(maxCap, Math.max(minCap, s.rate * this.horizonOf(id)))
  }

  /** Bytes that may be handed over now, over all stripes. */
  room (): number {
    let room = 0
    const all = this.allBenched()
    for (const [id, s] of this.stripes) if (all || !s.benched) room += Math.max(0, this.cap(id) - this.inFlight(id))
    return room
  }

  /** How long (ms) stripe `id` has had data in flight with no ack moving on, at `now`. */
  waiting (id: number, now: number): number {
    const since = this.stripes.get(id)?.waitingSince
    return since == null ? 0 : now - since
  }

  /**
   * The stripe for a frame of `bytes`: among those under their cap, the one
   * that would deliver it soonest; `null` when every stripe is at its cap. A
   * stripe with nothing in flight is always eligible, so a frame larger than
   * any cap still goes somewhere.
   */
  pick (bytes: number): number | null {
    let best: number | null = null
    let bestTime = Infinity
    const all = this.allBenched()
    for (const [id, s] of this.stripes) {
      if (s.benched && !all) continue
      const inFlight = s.handed - s.acked
      if (inFlight > 0 && inFlight + bytes > this.cap(id)) continue
      const time = (inFlight + bytes) / Math.max(s.rate, 1)
      if (time < bestTime) { best = id; bestTime = time }
    }
    return best
  }

  /** The stripe with the least time's worth in flight (for frames that must go now). */
  leastLoaded (): number | null {
    let best: number | null = null
    let bestTime = Infinity
    const all = this.allBenched()
    for (const [id, s] of this.stripes) {
      if (s.benched && !all) continue
      const time = (s.handed - s.acked) / Math.max(s.rate, 1)
      if (time < bestTime) { best = id; bestTime = time }
    }
    return best
  }

  private allBenched (): boolean {
    for (const s of this.stripes.values()) if (!s.benched) return false
    return true
  }
}

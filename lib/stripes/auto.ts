/**
 * `stripes: 'auto'`: how many connections to use, decided from measured
 * throughput. Pure: the manager reports each period's bytes and the round
 * trip time, and carries out the decision.
 *
 * Start with one connection. Never add on a loopback-class round trip (below
 * {@link AUTO_MIN_RTT}), where a second association only costs CPU. Otherwise,
 * after two busy periods at the current count, go up a step (1 → 4, then
 * doubling, up to the agreed maximum: a first step of 4 reaches a useful count
 * in one probe rather than two); after a period for the new connections to
 * ramp up and two busy periods more, keep them if throughput rose by at least
 * {@link AUTO_MIN_GAIN}, else drop them again and stay.
 */
import { AUTO_BUSY_BYTES, AUTO_MIN_GAIN, AUTO_MIN_RTT } from './constants'

/** What the manager should do after a period. */
export type AutoDecision =
  | { action: 'hold', reason: string }
  | { action: 'add', count: number, reason: string }
  | { action: 'drop', count: number, reason: string }

/** Where the controller stands. */
export type AutoState =
  /** Measuring the current count (`samples` busy periods so far). */
  | 'measuring'
  /** Connections were added: waiting for them to open and ramp up. */
  | 'ramping'
  /** Measuring the count just reached, to compare with the one before. */
  | 'comparing'
  /** Done: the count stays. */
  | 'settled'

/** Tuning of an {@link AutoStripes}. */
export interface AutoOptions {
  minRtt: number
  minGain: number
  busyBytes: number
  /** Busy periods averaged for one measurement. */
  samples: number
}

export class AutoStripes {
  readonly max: number
  private readonly opts: AutoOptions
  private stateValue: AutoState = 'measuring'
  private countValue = 1
  private previousCount = 1
  private baseline = 0
  private samples: number[] = []
  private rampWaits = 0

  /** `max`: the agreed most connections. */
  constructor (max: number, options: Partial<AutoOptions> = {}) {
    this.max = max
    this.opts = { minRtt: AUTO_MIN_RTT, minGain: AUTO_MIN_GAIN, busyBytes: AUTO_BUSY_BYTES, samples: 2, ...options }
  }

  /** Where the controller stands. */
  get state (): AutoState { return this.stateValue }
  /** Connections it wants now. */
  get count (): number { return this.countValue }

  /**
   * One period ended: `bytes` moved (both ways), `rtt` the peer connection's
   * round trip in seconds (`null` if unknown), `open` connections now open.
   */
  period (bytes: number, rtt: number | null, open: number): AutoDecision {
    if (this.stateValue === 'settled') return { action: 'hold', reason: 'settled' }
    if (this.stateValue === 'ramping') {
      // A connection that fails to open is not waited for long.
      if (open < this.countValue && ++this.rampWaits < 5) return { action: 'hold', reason: `waiting for ${this.countValue - open} connections to open` }
      this.stateValue = 'comparing'
      this.samples = []
      return { action: 'hold', reason: 'ramping up' }
    }
    if (bytes < this.opts.busyBytes) return { action: 'hold', reason: 'idle' }
    if (this.stateValue === 'measuring' && this.countValue === 1) {
      if (rtt === null) return { action: 'hold', reason: 'round trip time unknown' }
      if (rtt < this.opts.minRtt) {
        this.stateValue = 'settled'
        return { action: 'hold', reason: `round trip ${(rtt * 1000).toFixed(1)} ms is loopback-class: 1 connection` }
      }
    }
    this.samples.push(bytes)
    if (this.samples.length < this.opts.samples) return { action: 'hold', reason: 'measuring' }
    const rate = this.samples.reduce((a, b) => a + b, 0) / this.samples.length
    this.samples = []
    if (this.stateValue === 'comparing') {
      const gain = rate / this.baseline - 1
      if (gain < this.opts.minGain) {
        const count = this.previousCount
        this.countValue = count
        this.stateValue = 'settled'
        return { action: 'drop', count, reason: `${this.previousCount}→${open}: ${percent(gain)}, below ${percent(this.opts.minGain)}: back to ${count}` }
      }
      this.baseline = rate
      if (this.countValue >= this.max) {
        this.stateValue = 'settled'
        return { action: 'hold', reason: `${percent(gain)} at ${this.countValue}, the maximum` }
      }
      return this.grow(`${percent(gain)} at ${this.countValue}`)
    }
    this.baseline = rate
    if (this.countValue >= this.max) {
      this.stateValue = 'settled'
      return { action: 'hold', reason: 'at the maximum' }
    }
    return this.grow(`${Math.round(rate)} B/period at ${this.countValue}`)
  }

  private grow (why: string): AutoDecision {
    this.previousCount = this.countValue
    this.countValue = Math.min(this.max, this.countValue === 1 ? 4 : this.countValue * 2)
    this.stateValue = 'ramping'
    this.rampWaits = 0
    return { action: 'add', count: this.countValue, reason: `${why}: trying ${this.countValue}` }
  }
}

const percent = (x: number): string => `${x >= 0 ? '+' : ''}${Math.round(x * 100)} %`

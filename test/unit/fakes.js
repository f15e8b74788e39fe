'use strict'
// Stand-ins for what the engine's parts talk to, so each part can be tested
// alone and without real waiting: a clock whose time moves only when a test
// says, a data channel that records what is sent, a peer connection whose
// calls resolve or fail as a test says.
const path = require('path')

/** A module of the build (`dist/lib/...`). */
function lib (name) {
  return require(path.join(__dirname, '..', '..', 'dist', 'lib', name))
}

/**
 * Replaces setTimeout, setImmediate (and their clear functions) and
 * Date.now with fakes until `uninstall()`. Nothing runs until the test calls
 * `tick(ms)` (due timers, in time order) or `runImmediates()`. Promise
 * callbacks are unaffected: `settle()` lets them run.
 */
function installClock (start = 1_000_000) {
  const saved = {
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    setImmediate: globalThis.setImmediate,
    clearImmediate: globalThis.clearImmediate,
    now: Date.now
  }
  let now = start
  let nextId = 1
  const timers = new Map() // id -> { at, fn, args }
  const immediates = new Map()

  const handle = (id, kind) => ({
    id,
    kind,
    unref () { return this },
    ref () { return this },
    hasRef () { return true }
  })

  globalThis.setTimeout = (fn, ms = 0, ...args) => {
    const id = nextId++
    timers.set(id, { at: now + Math.max(0, Number(ms) || 0), fn, args, order: id })
    return handle(id, 'timeout')
  }
  globalThis.clearTimeout = h => { if (h && h.kind === 'timeout') timers.delete(h.id) }
  globalThis.setImmediate = (fn, ...args) => {
    const id = nextId++
    immediates.set(id, { fn, args })
    return handle(id, 'immediate')
  }
  globalThis.clearImmediate = h => { if (h && h.kind === 'immediate') immediates.delete(h.id) }
  Date.now = () => now

  const clock = {
    /** Current fake time (ms). */
    get now () { return now },
    /** Timers and immediates still scheduled. */
    get pending () { return timers.size + immediates.size },
    /** Timeouts still scheduled, as delays from now. */
    delays () { return [...timers.values()].map(t => t.at - now).sort((a, b) => a - b) },
    /** Runs the immediates scheduled so far (and those they schedule). */
    runImmediates () {
      while (immediates.size > 0) {
        const [id, { fn, args }] = immediates.entries().next().value
        immediates.delete(id)
        fn(...args)
      }
    },
    /** Moves time on by `ms`, running immediates and every timer that falls due, in order. */
    tick (ms = 0) {
      const end = now + ms
      clock.runImmediates()
      for (;;) {
        let due = null
        for (const [id, timer] of timers) {
          if (timer.at <= end && (!due || timer.at < due[1].at || (timer.at === due[1].at && timer.order < due[1].order))) due = [id, timer]
        }
        if (!due) break
        timers.delete(due[0])
        now = due[1].at
        due[1].fn(...due[1].args)
        clock.runImmediates()
      }
      now = end
    },
    uninstall () {
      Object.assign(globalThis, {
        setTimeout: saved.setTimeout,
        clearTimeout: saved.clearTimeout,
        setImmediate: saved.setImmediate,
        clearImmediate: saved.clearImmediate
      })
      Date.now = saved.now
    }
  }
  return clock
}

/** Lets pending promise callbacks run (a few rounds of microtasks). */
async function settle (rounds = 10) {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}

/** Bytes of a message as a data channel counts them. */
function size (data) {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
}

/**
 * An RTCDataChannel: `sent` records each message. Sending adds to
 * `bufferedAmount` unless `countBuffered` is false (an implementation whose
 * counter lags); `drain(n)` takes bytes out of it. `failSend` makes `send()`
 * throw it.
 */
class FakeChannel {
  constructor ({ readyState = 'open', countBuffered = true } = {}) {
    this.readyState = readyState
    this.bufferedAmount = 0
    this.bufferedAmountLowThreshold = 0
    this.countBuffered = countBuffered
    this.sent = []
    this.failSend = null
    this.closed = false
    this.onopen = null
    this.onmessage = null
    this.onclose = null
    this.onerror = null
  }

  send (data) {
    if (this.failSend) throw this.failSend
    this.sent.push(data)
    if (this.countBuffered) this.bufferedAmount += size(data)
  }

  drain (n = this.bufferedAmount) {
    this.bufferedAmount = Math.max(0, this.bufferedAmount - n)
  }

  close () {
    this.closed = true
    this.readyState = 'closed'
  }

  /** Every byte sent so far, as one Buffer. */
  bytes () {
    return Buffer.concat(this.sent.map(d => (typeof d === 'string' ? Buffer.from(d) : Buffer.from(d.buffer, d.byteOffset, d.byteLength))))
  }
}

/**
 * An RTCPeerConnection as Negotiation uses it. Each call is recorded in
 * `calls`; `fail[name]` (an error) makes that call reject, `throws[name]`
 * makes it throw synchronously.
 */
class FakePeerConnection {
  constructor () {
    this.calls = []
    this.fail = {}
    this.throws = {}
    this.gathered = null // what localDescription returns once set
    this.localDescription = null
  }

  record (name, arg) {
    this.calls.push([name, arg])
    if (this.throws[name]) throw this.throws[name]
    if (this.fail[name]) return Promise.reject(this.fail[name])
    return null
  }

  createOffer (options) {
    return this.record('createOffer', options) || Promise.resolve({ type: 'offer', sdp: OFFER_SDP })
  }

  createAnswer (options) {
    return this.record('createAnswer', options) || Promise.resolve({ type: 'answer', sdp: ANSWER_SDP })
  }

  setLocalDescription (description) {
    const result = this.record('setLocalDescription', description)
    if (result) return result
    this.localDescription = this.gathered || description
    return Promise.resolve()
  }

  setRemoteDescription (description) {
    return this.record('setRemoteDescription', description) || Promise.resolve()
  }
}

const OFFER_SDP = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-options:trickle',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:0', ''
].join('\r\n')
const ANSWER_SDP = OFFER_SDP.replace('o=- 1 2', 'o=- 3 4')

/** Records calls made on it: `host.calls` lists `[name, ...args]`. */
function recorder (names, extra = {}) {
  const host = { calls: [], ...extra }
  for (const name of names) {
    if (typeof host[name] === 'function') {
      const own = host[name]
      host[name] = (...args) => { host.calls.push([name, ...args]); return own(...args) }
    } else {
      host[name] = (...args) => { host.calls.push([name, ...args]) }
    }
  }
  host.called = name => host.calls.filter(c => c[0] === name).map(c => c.slice(1))
  return host
}

/** Runs `fn(clock)` with the fake clock installed, removing it afterwards. */
async function withClock (fn) {
  const clock = installClock()
  try {
    await fn(clock)
  } finally {
    clock.uninstall()
  }
}

module.exports = { lib, installClock, withClock, settle, FakeChannel, FakePeerConnection, recorder, OFFER_SDP, ANSWER_SDP }

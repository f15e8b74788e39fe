'use strict'
// The drop-in promise, held scenario by scenario: each scenario is written
// once, as a function of the constructor, and run against simple-peer 9.11.1
// and against duplex-peer with the same options. What an application can
// observe (the lifecycle events of each peer, in order; stream flags; what a
// call throws or calls back with; the data received) must be the same, and
// must be the expected value, so that both libraries being wrong the same way
// fails too. Where simple-peer loses data, throws an uncoded error or crashes,
// duplex-peer deliberately differs: such a scenario asserts each library's
// own outcome and is labelled "deliberate difference" (README, "Differences
// from simple-peer").
const test = require('tape')
const { Readable } = require('stream')
const wrtc = require('@roamhq/wrtc')
const SimplePeer = require('simple-peer')
const DuplexPeer = require('..')
const { sha256, patternBytes } = require('./helpers')

const BASE = { wrtc, config: { iceServers: [] } }
const LIBS = [['simple-peer', SimplePeer], ['duplex-peer', DuplexPeer]]
/** Hang detector per scenario run (not a speed check: a hung scenario fails instead of stalling the file). */
const WATCHDOG = 30000
/** Lifecycle events recorded per peer. */
const LIFECYCLE = ['connect', 'prefinish', 'finish', 'end', 'close', 'error']

/** Waits `ms` so that late events, if any, have been emitted. */
const pause = ms => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Records the lifecycle events of `peer`, in order (`error:<code>` for
 * errors); `connect` left out with `ending` (the scenarios about how a peer
 * ends compare only that part).
 */
function record (peer, { ending = false } = {}) {
  const seq = []
  for (const event of LIFECYCLE) {
    if (ending && event === 'connect') continue
    peer.on(event, arg => seq.push(event === 'error' ? `error:${arg && arg.code}` : event))
  }
  return seq
}

function isClosed (peer) {
  return peer.destroyed && !peer._pc && !peer.destroying
}

/** Resolves once every peer has closed. */
function closed (...peers) {
  return Promise.all(peers.map(p => new Promise(resolve => {
    if (isClosed(p)) return setImmediate(resolve)
    p.once('close', () => setImmediate(resolve))
  })))
}

function once (emitter, event) {
  return new Promise(resolve => emitter.once(event, resolve))
}

/** Wires the signals of two peers to each other. */
function wire (a, b) {
  a.on('signal', data => { if (!b.destroyed && !b.destroying) b.signal(data) })
  b.on('signal', data => { if (!a.destroyed && !a.destroying) a.signal(data) })
}

/** A wired pair (`a` initiates), with the options given to both. */
function pair (make, opts = {}, optsB = opts) {
  const a = make({ initiator: true, ...opts })
  const b = make({ ...optsB })
  wire(a, b)
  return [a, b]
}

function connected (...peers) {
  return Promise.all(peers.map(p => p.connected ? null : once(p, 'connect')))
}

/** What calling `fn` did: `ok`, or `throw:<code>` (`throw:<name>` for an uncoded error). */
function attempt (fn) {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return `throw:${err.code || err.name}`
  }
}

/** Stream flags after the end of a scenario. */
function flags (peer) {
  return {
    destroyed: peer.destroyed,
    readableEnded: peer._readableState.ended,
    writableFinished: peer._writableState.finished,
    pc: peer._pc,
    channel: peer._channel,
    connected: peer.connected
  }
}

/**
 * Runs `scenario(make, Peer)` against each library; `make(opts)` constructs a
 * peer with the base options and `opts`. Every peer made is destroyed and
 * closed afterwards, whatever happened.
 */
async function runBoth (scenario) {
  const out = {}
  for (const [name, Peer] of LIBS) {
    const made = []
    const make = opts => {
      const peer = new Peer({ ...BASE, ...opts })
      made.push(peer)
      return peer
    }
    let timer
    try {
      const result = await Promise.race([
        scenario(make, Peer),
        new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`${name}: scenario hung`)), WATCHDOG) })
      ])
      out[name] = structuredClone(result) // as it was at the end of the scenario, before the cleanup below
    } catch (err) {
      out[name] = { failed: err.message }
    } finally {
      clearTimeout(timer)
      for (const peer of made) {
        peer.on('error', () => {})
        if (!peer.destroyed && !peer.destroying) peer.destroy()
      }
      await closed(...made)
    }
  }
  if (process.env.EQUIVALENCE_SHOW) showDifferences(out)
  return out
}

/** Prints where the outcomes differ (EQUIVALENCE_SHOW=1, to study a failure). */
function showDifferences (out) {
  diff(out['simple-peer'], out['duplex-peer'], '')
}

function diff (a, b, path) {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[key], b[key], `${path}.${key}`)
  } else if (a !== b) {
    console.error(`  ${path || '(outcome)'}: simple-peer ${JSON.stringify(a)}, duplex-peer ${JSON.stringify(b)}`)
  }
}

/** The scenario gives the same outcome with both libraries, and that outcome is `expected`. */
async function same (t, scenario, expected) {
  const out = await runBoth(scenario)
  t.deepEqual(out['duplex-peer'], out['simple-peer'], 'duplex-peer: same outcome as simple-peer')
  t.deepEqual(out['simple-peer'], expected, 'the outcome is the expected one')
}

/** Deliberate difference: each library gives its own, expected outcome. */
async function differs (t, scenario, expected) {
  const out = await runBoth(scenario)
  t.deepEqual(out['simple-peer'], expected['simple-peer'], 'simple-peer: its outcome')
  t.deepEqual(out['duplex-peer'], expected['duplex-peer'], 'duplex-peer: its outcome (deliberate difference)')
}

/** Flags of a peer once closed, the same with or without an error. */
const CLOSED = { destroyed: true, readableEnded: true, writableFinished: true, pc: null, channel: null, connected: false }
/** What the teardown of destroy() emits (simple-peer pushes null and ends the writable side). */
const TEARDOWN = ['prefinish', 'finish', 'close']
/** simple-peer's default RTCPeerConnection configuration. */
const DEFAULT_CONFIG = { iceServers: [{ urls: ['stun:stun.l.google.com:19302', 'stun:global.stun.twilio.com:3478'] }], sdpSemantics: 'unified-plan' }

// --- Order of events between two peers -------------------------------------

for (const trickle of [true, false]) {
  test(`connect: initiator first, one connect each, signal shapes (trickle ${trickle})`, async t => {
    await same(t, async make => {
      const [a, b] = pair(make, { trickle })
      const order = []
      const signals = { a: [], b: [] }
      a.on('signal', s => signals.a.push(s.type))
      b.on('signal', s => signals.b.push(s.type))
      const seq = { a: record(a), b: record(b) }
      a.on('connect', () => order.push('a'))
      b.on('connect', () => order.push('b'))
      await connected(a, b)
      await pause(50)
      const kinds = list => [...new Set(list)]
      return { order, seq, signals: { a: kinds(signals.a), b: kinds(signals.b) }, connected: [a.connected, b.connected] }
    }, {
      order: ['a', 'b'],
      seq: { a: ['connect'], b: ['connect'] },
      signals: trickle ? { a: ['offer', 'candidate'], b: ['answer', 'candidate'] } : { a: ['offer'], b: ['answer'] },
      connected: [true, true]
    })
  })
}

// --- destroy() ---------------------------------------------------------------

test('destroy() before connect', async t => {
  await same(t, async make => {
    const a = make({ initiator: true })
    const seq = record(a)
    a.destroy()
    const inTick = { destroying: a.destroying, pc: !!a._pc, channel: !!a._channel }
    await closed(a)
    await pause(50)
    return { seq, inTick, after: flags(a) }
  }, {
    seq: TEARDOWN,
    inTick: { destroying: true, pc: true, channel: true },
    after: CLOSED
  })
})

test('destroy(err) before connect', async t => {
  await same(t, async make => {
    const a = make({ initiator: true })
    const seq = record(a)
    const err = new Error('boom')
    let same = null
    a.on('error', e => { same = e === err && e.message })
    a.destroy(err)
    await closed(a)
    await pause(50)
    return { seq, same, after: flags(a) }
  }, {
    seq: ['prefinish', 'finish', 'error:undefined', 'close'],
    same: 'boom',
    after: CLOSED
  })
})

for (const withError of [false, true]) {
  test(`destroy(${withError ? 'err' : ''}) after connect: both sides`, async t => {
    await same(t, async make => {
      const [a, b] = pair(make)
      const seq = { a: record(a), b: record(b) }
      await connected(a, b)
      a.destroy(withError ? new Error('boom') : undefined)
      await closed(a, b)
      await pause(50)
      return { seq, a: flags(a), b: flags(b) }
    }, {
      seq: {
        a: withError ? ['connect', 'prefinish', 'finish', 'error:undefined', 'close'] : ['connect', ...TEARDOWN],
        b: ['connect', ...TEARDOWN]
      },
      a: CLOSED,
      b: CLOSED
    })
  })
}

for (const where of ['connect', 'data', 'signal', 'error']) {
  test(`destroy() inside a ${where} handler`, async t => {
    await same(t, async make => {
      const [a, b] = pair(make)
      // The other peer may or may not connect before the channel closes: a race in both libraries.
      const seq = where === 'data' ? { a: record(a, { ending: true }), b: record(b) } : { a: record(a), b: record(b, { ending: true }) }
      let calls = 0
      const target = where === 'data' ? b : a
      const kill = () => { calls++; target.destroy() }
      if (where === 'error') {
        target.once('error', kill)
        await connected(a, b)
        target.destroy(new Error('first'))
      } else {
        target.once(where, kill)
        if (where === 'data') {
          await connected(a, b)
          a.write('x')
        }
      }
      await closed(target)
      if (where !== 'signal') await closed(a, b)
      await pause(50)
      return { seq: where === 'signal' ? { a: seq.a } : seq, calls, target: flags(target) }
    }, {
      seq: {
        connect: { a: ['connect', ...TEARDOWN], b: TEARDOWN },
        data: { a: TEARDOWN, b: ['connect', ...TEARDOWN, 'end'] },
        signal: { a: TEARDOWN },
        error: { a: ['connect', 'prefinish', 'finish', 'error:undefined', 'close'], b: TEARDOWN }
      }[where],
      calls: 1,
      target: CLOSED
    })
  })
}

test('destroy() twice, and destroy(err) twice: one close, the first error only', async t => {
  await same(t, async make => {
    const a = make({ initiator: true })
    const b = make({ initiator: true })
    const seq = { a: record(a), b: record(b) }
    a.destroy(); a.destroy()
    b.destroy(Object.assign(new Error('one'), { code: 'ONE' })); b.destroy(Object.assign(new Error('two'), { code: 'TWO' }))
    await closed(a, b)
    await pause(50)
    return seq
  }, { a: TEARDOWN, b: ['prefinish', 'finish', 'error:ONE', 'close'] })
})

// --- How a stream ends -------------------------------------------------------

for (const allowHalfOpen of [false, true]) {
  test(`end() on one side, both reading (allowHalfOpen: ${allowHalfOpen})`, async t => {
    await same(t, async make => {
      const [a, b] = pair(make, { allowHalfOpen })
      const seq = { a: record(a, { ending: true }), b: record(b, { ending: true }) }
      let received = ''
      b.on('data', d => { received += d })
      a.resume()
      await connected(a, b)
      a.write('abc')
      a.end()
      if (allowHalfOpen) {
        await once(b, 'end')
        await pause(1500)
        const open = { b: { writableFinished: b._writableState.finished, destroyed: b.destroyed } }
        b.end()
        await closed(a, b)
        await pause(50)
        return { seq, received, open, a: flags(a), b: flags(b) }
      }
      await closed(a, b)
      await pause(50)
      return { seq, received, a: flags(a), b: flags(b) }
    }, Object.assign({
      seq: { a: [...TEARDOWN, 'end'], b: [...TEARDOWN, 'end'] },
      received: 'abc'
    }, allowHalfOpen ? { open: { b: { writableFinished: true, destroyed: true } } } : {}, { a: CLOSED, b: CLOSED }))
  })
}

test('end() on one side, the other not reading', async t => {
  await same(t, async make => {
    const [a, b] = pair(make)
    const seq = { a: record(a, { ending: true }), b: record(b, { ending: true }) }
    await connected(a, b)
    a.write('abc')
    a.end()
    await closed(a, b)
    await pause(50)
    const unread = String(b.read())
    await pause(50)
    return { seq, unread, a: flags(a), b: flags(b) }
  }, {
    seq: { a: TEARDOWN, b: [...TEARDOWN, 'end'] },
    unread: 'abc',
    a: CLOSED,
    b: CLOSED
  })
})

test('pipe of a finite stream into the initiator', async t => {
  await same(t, async make => {
    const [a, b] = pair(make)
    const seq = { a: record(a, { ending: true }), b: record(b, { ending: true }) }
    const chunks = []
    b.on('data', d => chunks.push(Buffer.from(d)))
    a.resume()
    // Piped once connected: simple-peer 9.11.1 was seen once to deliver writes
    // made before `connect` out of order ('defabc'), a race of its own.
    await connected(a, b)
    Readable.from([Buffer.from('abc'), Buffer.from('def')]).pipe(a)
    await closed(a, b)
    await pause(50)
    return { seq, received: Buffer.concat(chunks).toString(), a: flags(a), b: flags(b) }
  }, {
    seq: { a: [...TEARDOWN, 'end'], b: [...TEARDOWN, 'end'] },
    received: 'abcdef',
    a: CLOSED,
    b: CLOSED
  })
})

// --- A write after end() -----------------------------------------------------

/** Collects everything `peer` receives until it closes. */
function collect (peer) {
  const chunks = []
  peer.on('data', d => chunks.push(Buffer.from(d)))
  return () => Buffer.concat(chunks)
}

for (const when of ['before connect', 'after connect']) {
  for (const late of ['write', 'end']) {
    test(`write ${when}, end(), then a late ${late}(): the late write fails, the first is delivered`, async t => {
      const payload = patternBytes(48 * 1024, 7)
      await same(t, async make => {
        const [a, b] = pair(make)
        const errors = []
        a.on('error', err => errors.push(err.code))
        const received = collect(b)
        if (when === 'after connect') await connected(a, b)
        a.write(payload)
        a.end()
        let lateResult = null
        if (late === 'write') a.write('late', err => { lateResult = err && err.code })
        else a.end('late')
        await closed(a, b)
        await pause(50)
        const data = received()
        return { errors, lateResult, bytes: data.length, sha256: sha256(data), closed: [a.destroyed, b.destroyed] }
      }, {
        errors: ['ERR_STREAM_WRITE_AFTER_END'],
        lateResult: late === 'write' ? 'ERR_STREAM_WRITE_AFTER_END' : null,
        bytes: payload.length,
        sha256: sha256(payload),
        closed: [true, true]
      })
    })
  }
}

// --- Calls in the tick of destroy(), and after close -------------------------

test('deliberate difference: write() in the tick of destroy() fails instead of being reported as written; send() and signal() are ignored in both', async t => {
  // simple-peer's write() then calls back with success and sends nothing: the
  // data is lost unreported. In duplex-peer `destroyed` is already true, and
  // the write calls back with ERR_STREAM_DESTROYED.
  await differs(t, async make => {
    const [a, b] = pair(make)
    await connected(a, b)
    const seq = record(a)
    a.destroy()
    const inTick = { destroyed: a.destroyed, destroying: a.destroying, pc: !!a._pc, channel: !!a._channel }
    inTick.send = attempt(() => a.send('x'))
    inTick.signal = attempt(() => a.signal({ renegotiate: true }))
    inTick.negotiate = attempt(() => a.negotiate())
    let writeResult = 'not called'
    inTick.write = attempt(() => a.write('x', err => { writeResult = err ? err.code : null }))
    await closed(a)
    await pause(50)
    return { inTick, writeResult, seq }
  }, {
    'simple-peer': {
      inTick: { destroyed: false, destroying: true, pc: true, channel: true, send: 'ok', signal: 'ok', negotiate: 'ok', write: 'ok' },
      writeResult: null,
      seq: ['prefinish', 'close', 'finish']
    },
    'duplex-peer': {
      inTick: { destroyed: true, destroying: true, pc: true, channel: true, send: 'ok', signal: 'ok', negotiate: 'ok', write: 'ok' },
      writeResult: 'ERR_STREAM_DESTROYED',
      seq: TEARDOWN
    }
  })
})

test('deliberate difference: write() after close calls back with ERR_STREAM_WRITE_AFTER_END, with no error event after close; send() and negotiate() throw ERR_DESTROYED in both', async t => {
  // simple-peer also emits the error, after `close`: with no listener left, the process crashes.
  await differs(t, async make => {
    const a = make({ initiator: true })
    a.destroy()
    await closed(a)
    const seq = record(a)
    const out = { send: attempt(() => a.send('x')), negotiate: attempt(() => a.negotiate()) }
    let writeResult = 'not called'
    out.write = attempt(() => a.write('x', err => { writeResult = err ? err.code : null }))
    await pause(50)
    return { out, writeResult, seq }
  }, {
    'simple-peer': {
      out: { send: 'throw:ERR_DESTROYED', negotiate: 'throw:ERR_DESTROYED', write: 'ok' },
      writeResult: 'ERR_STREAM_WRITE_AFTER_END',
      seq: ['error:ERR_STREAM_WRITE_AFTER_END']
    },
    'duplex-peer': {
      out: { send: 'throw:ERR_DESTROYED', negotiate: 'throw:ERR_DESTROYED', write: 'ok' },
      writeResult: 'ERR_STREAM_WRITE_AFTER_END',
      seq: []
    }
  })
})

test('deliberate difference: signal() after close is ignored (simple-peer throws ERR_DESTROYED)', async t => {
  // Late signals from the other peer are normal; simple-peer makes every relay guard against them.
  await differs(t, async make => {
    const a = make({ initiator: true })
    a.destroy()
    await closed(a)
    const seq = record(a)
    const result = attempt(() => a.signal({ renegotiate: true }))
    await pause(50)
    return { result, seq }
  }, {
    'simple-peer': { result: 'throw:ERR_DESTROYED', seq: [] },
    'duplex-peer': { result: 'ok', seq: [] }
  })
})

// --- signal() with garbage ----------------------------------------------------

/** signal(input) on a fresh peer: what it throws, the events, whether the peer was destroyed. */
function signalWith (input, initiator) {
  return async make => {
    const peer = make({ initiator })
    const seq = record(peer)
    const result = attempt(() => peer.signal(input))
    await Promise.race([closed(peer), pause(2000)])
    await pause(50)
    return { result, seq, destroyed: peer.destroyed }
  }
}

const REJECTED = code => ({ result: 'ok', seq: ['prefinish', 'finish', `error:${code}`, 'close'], destroyed: true })

for (const [name, input, initiator, code] of [
  ['a string that is not JSON', 'garbage', false, 'ERR_SIGNALING'],
  ['JSON of an empty object', '{}', false, 'ERR_SIGNALING'],
  ['an empty object', {}, false, 'ERR_SIGNALING'],
  ['a number', 42, false, 'ERR_SIGNALING'],
  ['an offer without sdp', { type: 'offer' }, false, 'ERR_SIGNALING'],
  ['an offer with garbage sdp', { type: 'offer', sdp: 'garbage' }, false, 'ERR_SET_REMOTE_DESCRIPTION'],
  ['an answer when no offer was made', { type: 'answer', sdp: 'v=0\r\n' }, true, 'ERR_SET_REMOTE_DESCRIPTION']
]) {
  test(`signal() with ${name}: ${code}`, async t => {
    await same(t, signalWith(input, initiator), REJECTED(code))
  })
}

for (const [name, input] of [['null', null], ['undefined', undefined]]) {
  test(`deliberate difference: signal(${name}) gives ERR_SIGNALING (simple-peer throws an uncoded TypeError)`, async t => {
    await differs(t, signalWith(input, false), {
      'simple-peer': { result: 'throw:TypeError', seq: [], destroyed: false },
      'duplex-peer': REJECTED('ERR_SIGNALING')
    })
  })
}

// --- Options given as undefined or null ----------------------------------------

const OPTIONS = ['trickle', 'channelName', 'channelConfig', 'config', 'offerOptions', 'answerOptions',
  'sdpTransform', 'stream', 'streams', 'iceCompleteTimeout', 'allowHalfTrickle', 'objectMode', 'initiator']

/** The fields of a peer that the options set. */
function fields (p) {
  return {
    trickle: p.trickle,
    channelName: typeof p.channelName === 'string' ? `string of ${p.channelName.length}` : p.channelName,
    channelConfig: p.channelConfig,
    channelNegotiated: String(p.channelNegotiated),
    config: p.config,
    offerOptions: p.offerOptions,
    answerOptions: p.answerOptions,
    sdpTransform: typeof p.sdpTransform === 'function' && p.sdpTransform('sdp'),
    streams: p.streams,
    iceCompleteTimeout: p.iceCompleteTimeout,
    allowHalfTrickle: p.allowHalfTrickle,
    objectMode: [p._readableState.objectMode, p._writableState.objectMode],
    initiator: p.initiator
  }
}

/** The expected fields, when `option` is given as `value` to both peers. */
function expectedFields (option, value) {
  const base = {
    trickle: true,
    channelConfig: {},
    channelNegotiated: 'undefined',
    config: { iceServers: [], sdpSemantics: 'unified-plan' },
    offerOptions: {},
    answerOptions: {},
    sdpTransform: 'sdp',
    streams: [],
    iceCompleteTimeout: 5000,
    allowHalfTrickle: false,
    objectMode: [false, false]
  }
  // `trickle` and `allowHalfTrickle` keep a given null (any falsy value turns the option off).
  if (option === 'trickle' || option === 'allowHalfTrickle') base[option] = value === undefined ? base[option] : value
  if (option === 'config') base.config = DEFAULT_CONFIG
  const a = { ...base, channelName: 'string of 40', initiator: true }
  if (option === 'initiator') Object.assign(a, { channelName: null, initiator: false })
  const out = { a, b: { ...base, channelName: null, initiator: false } }
  if (option !== 'initiator') out.connected = true
  return out
}

for (const value of [undefined, null]) {
  test(`every option given as ${value}: the fields it sets, and the pair still connects`, async t => {
    const expected = {}
    for (const option of OPTIONS) expected[option] = expectedFields(option, value)
    await same(t, async make => {
      const out = {}
      for (const option of OPTIONS) {
        const opts = { [option]: value } // `config` too: then the default STUN servers, unreachable here, are tried alongside
        const a = make({ initiator: true, ...opts })
        const b = make(opts)
        wire(a, b)
        out[option] = { a: fields(a), b: fields(b) }
        if (option === 'initiator') { // no initiator on either side: nothing would happen
          a.destroy(); b.destroy()
          await closed(a, b)
          continue
        }
        await connected(a, b)
        out[option].connected = a.connected && b.connected
        a.destroy(); b.destroy()
        await closed(a, b)
      }
      return out
    }, expected)
  })
}

// --- Properties ----------------------------------------------------------------

test('properties before connect, once connected, and after close', async t => {
  const props = p => ({
    pc: p._pc ? typeof p._pc.createDataChannel : p._pc,
    channel: p._channel ? typeof p._channel.send : p._channel,
    channelName: typeof p.channelName === 'string' ? `string of ${p.channelName.length}` : p.channelName,
    connected: p.connected,
    remoteAddress: typeof p.remoteAddress,
    remoteFamily: /^IPv[46]$/.test(p.remoteFamily) ? 'IPv4 or IPv6' : String(p.remoteFamily),
    remotePort: typeof p.remotePort,
    localAddress: typeof p.localAddress,
    localFamily: /^IPv[46]$/.test(p.localFamily) ? 'IPv4 or IPv6' : String(p.localFamily),
    localPort: typeof p.localPort,
    address: Object.keys(p.address()).sort().map(k => `${k}:${typeof p.address()[k]}`),
    bufferSize: p.bufferSize,
    destroying: p.destroying,
    initiator: p.initiator
  })
  const unknown = {
    remoteAddress: 'undefined', remoteFamily: 'undefined', remotePort: 'undefined',
    localAddress: 'undefined', localFamily: 'undefined', localPort: 'undefined',
    address: ['address:undefined', 'family:undefined', 'port:undefined'],
    bufferSize: 0,
    destroying: false
  }
  const known = {
    remoteAddress: 'string', remoteFamily: 'IPv4 or IPv6', remotePort: 'number',
    localAddress: 'string', localFamily: 'IPv4 or IPv6', localPort: 'number',
    address: ['address:string', 'family:string', 'port:number'],
    bufferSize: 0,
    destroying: false
  }
  const name = 'string of 40'
  await same(t, async make => {
    const [a, b] = pair(make)
    const before = { a: props(a), b: props(b) }
    await connected(a, b)
    const sameName = a.channelName === b.channelName
    const after = { a: props(a), b: props(b) }
    a.destroy(); b.destroy()
    await closed(a, b)
    return { before, after, sameName, closed: { a: props(a), b: props(b) } }
  }, {
    before: {
      a: { pc: 'function', channel: 'function', channelName: name, connected: false, ...unknown, initiator: true },
      b: { pc: 'function', channel: null, channelName: null, connected: false, ...unknown, initiator: false }
    },
    after: {
      a: { pc: 'function', channel: 'function', channelName: name, connected: true, ...known, initiator: true },
      b: { pc: 'function', channel: 'function', channelName: name, connected: true, ...known, initiator: false }
    },
    sameName: true,
    closed: {
      a: { pc: null, channel: null, channelName: name, connected: false, ...known, initiator: true },
      b: { pc: null, channel: null, channelName: name, connected: false, ...known, initiator: false }
    }
  })
})

test('Peer.config and Peer.channelConfig', async t => {
  await same(t, async (make, Peer) => ({ config: Peer.config, channelConfig: Peer.channelConfig }),
    { config: DEFAULT_CONFIG, channelConfig: {} })
})

test('deliberate difference: Peer.WEBRTC_SUPPORT is true in Node (duplex-peer loads @roamhq/wrtc by itself)', async t => {
  await differs(t, async (make, Peer) => ({ WEBRTC_SUPPORT: Peer.WEBRTC_SUPPORT }), {
    'simple-peer': { WEBRTC_SUPPORT: false },
    'duplex-peer': { WEBRTC_SUPPORT: true }
  })
})

test('end() on one side while the other pipes into a slow writable: everything arrives, and the pipe ends', async t => {
  const { Writable } = require('stream')
  const payload = patternBytes(1024 * 1024, 11)
  await same(t, async make => {
    const [a, b] = pair(make)
    await connected(a, b)
    const chunks = []
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write (chunk, _enc, cb) { chunks.push(chunk); setTimeout(cb, 1) }
    })
    b.pipe(sink)
    // simple-peer sends each write as one message: pieces it can carry.
    for (let i = 0; i < payload.length; i += 16 * 1024) a.write(payload.subarray(i, i + 16 * 1024))
    a.end()
    await once(sink, 'finish')
    await closed(a, b)
    const data = Buffer.concat(chunks)
    return { bytes: data.length, sha256: sha256(data), closed: [a.destroyed, b.destroyed] }
  }, { bytes: payload.length, sha256: sha256(payload), closed: [true, true] })
})

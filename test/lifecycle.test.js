'use strict'
// The lifecycle simple-peer code relies on: the wrtc option, the order of
// `connect`, how ending one side ends the other, what destroy() leaves
// readable for the rest of its tick, and the `default` export.
const test = require('tape')
const path = require('path')
const { pathToFileURL } = require('url')
const { Readable } = require('stream')
const { Peer, LOOPBACK, pair, connected, closed, once } = require('./helpers')

test('an explicit wrtc without a usable RTCPeerConnection emits ERR_PC_CONSTRUCTOR after construction', async t => {
  for (const wrtc of [{ RTCPeerConnection: null }, {}, { RTCPeerConnection: 'nope' }]) {
    const peer = new Peer({ ...LOOPBACK, wrtc })
    const err = await once(peer, 'error')
    t.equal(err.code, 'ERR_PC_CONSTRUCTOR', `wrtc: ${JSON.stringify(wrtc)}`)
    t.match(err.message, /wrtc/, 'the message names the option')
    await closed(peer)
  }
})

test('wrtc: undefined and wrtc: null fall back to the default implementation', async t => {
  const [a, b] = pair({ wrtc: undefined }, { wrtc: null })
  await connected(a, b)
  t.ok(a.connected && b.connected, 'connected')
  a.destroy(); b.destroy()
  await closed(a, b)
})

/** Connects a pair and returns which peer emitted `connect` first. */
async function firstToConnect (opts, deliver) {
  const a = new Peer({ ...LOOPBACK, initiator: true, ...opts })
  const b = new Peer({ ...LOOPBACK, ...opts })
  deliver(a, b)
  const order = []
  a.once('connect', () => order.push('initiator'))
  b.once('connect', () => order.push('non-initiator'))
  await connected(a, b)
  a.destroy(); b.destroy()
  await closed(a, b)
  return order
}

const direct = (a, b) => {
  a.on('signal', data => { if (!b.destroyed) b.signal(data) })
  b.on('signal', data => { if (!a.destroyed) a.signal(data) })
}
/** Holds each side's signals until the description, then hands over the candidates first. */
const candidatesFirst = (a, b) => {
  for (const [from, to] of [[a, b], [b, a]]) {
    const held = []
    from.on('signal', data => {
      if (to.destroyed) return
      if (data.type === 'candidate' || data.candidate) return held.push(data)
      setTimeout(() => { for (const c of held.splice(0)) to.signal(c); to.signal(data) }, 20)
    })
  }
}

for (const [name, opts, deliver] of [
  ['trickle', {}, direct],
  ['no trickle', { trickle: false }, direct],
  ['candidates before the description', {}, candidatesFirst]
]) {
  test(`the initiator emits connect first (${name}), as with simple-peer`, async t => {
    for (let i = 0; i < 5; i++) {
      t.deepEqual(await firstToConnect(opts, deliver), ['initiator', 'non-initiator'], `run ${i + 1}`)
    }
  })
}

test('a connect listener added inside the other peer\'s connect handler is called', async t => {
  const [a, b] = pair()
  await new Promise(resolve => a.once('connect', () => b.once('connect', resolve)))
  t.pass('both connected')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('no data before connect on the receiving side', async t => {
  for (let i = 0; i < 5; i++) {
    const [a, b] = pair()
    const log = []
    b.on('connect', () => log.push('connect'))
    b.on('data', () => log.push('data'))
    a.once('connect', () => a.write('early'))
    await once(b, 'data')
    t.deepEqual(log, ['connect', 'data'], `run ${i + 1}`)
    a.destroy(); b.destroy()
    await closed(a, b)
  }
})

/** Pipes 'abc' into the initiator and records the end events of both. */
async function endOneSide (opts = {}) {
  const [a, b] = pair(opts, opts)
  const seen = { a: [], b: [] }
  for (const [name, peer] of [['a', a], ['b', b]]) {
    peer.on('finish', () => seen[name].push(`finish:${peer._writableState.finished}`))
    peer.on('end', () => seen[name].push(`end:${peer._readableState.ended}`))
    peer.on('close', () => seen[name].push('close'))
  }
  let received = ''
  b.on('data', data => { received += data })
  a.resume()
  Readable.from(['abc']).pipe(a)
  await closed(a, b)
  return { seen, received }
}

test('ending one side finishes and ends both (allowHalfOpen: false, the default), in simple-peer\'s order', async t => {
  const { seen, received } = await endOneSide()
  t.equal(received, 'abc', 'data arrived')
  for (const side of ['a', 'b']) {
    t.deepEqual(seen[side], ['finish:true', 'close', 'end:true'], `${side}: finish, close, then end (as simple-peer: the closed channel destroys the peer)`)
  }
})

test('allowHalfOpen: true: the closed channel still ends both sides of the other peer, as with simple-peer', async t => {
  const { seen, received } = await endOneSide({ allowHalfOpen: true })
  t.equal(received, 'abc', 'data arrived')
  t.deepEqual(seen.b, ['finish:true', 'close', 'end:true'], 'b: finish, close, end')
})

test('_pc and _channel stay readable in the tick of destroy(); a state change then still emits iceStateChange', async t => {
  const [a, b] = pair()
  await connected(a, b)
  let states = 0
  a.on('iceStateChange', () => { states++ })
  a.destroy()
  t.ok(a._pc, '_pc still set')
  t.ok(a._channel, '_channel still set')
  a._pc.oniceconnectionstatechange()
  t.equal(states, 1, 'iceStateChange emitted')
  let closeEvents = 0
  a.on('close', () => { closeEvents++ })
  await closed(a)
  t.equal(a._pc, null, '_pc null after close')
  t.equal(a._channel, null, '_channel null after close')
  t.equal(closeEvents, 1, 'one close')
  b.destroy()
  await closed(b)
})

test('destroy() inside a connect handler closes once, without error', async t => {
  const [a, b] = pair()
  let errors = 0
  a.on('error', () => { errors++ })
  a.once('connect', () => a.destroy())
  await closed(a)
  t.equal(errors, 0, 'no error')
  t.equal(a._pc, null, 'torn down')
  b.destroy()
  await closed(b)
})

test('require(...).default is the Peer, in CommonJS and from both ES module entries', async t => {
  const mod = require('..')
  t.equal(mod.default, mod, 'CommonJS .default')
  const Ctor = mod.default || mod
  const peer = new Ctor({ ...LOOPBACK, initiator: true })
  t.ok(peer instanceof Peer, 'mod.default || mod constructs a Peer')
  peer.destroy()
  await closed(peer)
  const cjs = await import(pathToFileURL(path.join(__dirname, '..', 'dist', 'index.js')).href)
  t.equal(cjs.default, mod, 'import() of the CommonJS build')
  t.equal(cjs.default.default, mod, 'and its .default')
  const esm = await import(pathToFileURL(path.join(__dirname, '..', 'dist', 'index.mjs')).href)
  t.equal(esm.default, mod, 'import() of the ES module build')
  t.equal(esm.default.default, mod, 'and its .default')
  t.notOk(Object.prototype.hasOwnProperty.call(mod, 'Peer'), 'no other static that would mislead')
})

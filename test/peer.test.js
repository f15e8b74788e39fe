'use strict'
// The Peer facade: options, statics, properties, events and lifecycle.
const test = require('tape')
const path = require('path')
const { spawn } = require('child_process')
const { Peer, LOOPBACK, pair, connected, closed, once } = require('./helpers')

function runNode (args, env = {}) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    // A watchdog, not a timing assertion: a child that never exits fails the test.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60000)
    child.on('exit', (code, signal) => { clearTimeout(watchdog); resolve({ code, signal, out }) })
  })
}

test('require() returns the constructor; statics match simple-peer', t => {
  t.equal(typeof Peer, 'function', 'constructor')
  t.equal(require('..'), Peer, 'same object each time')
  t.equal(Peer.WEBRTC_SUPPORT, true, 'WebRTC is supported in Node with no option')
  t.deepEqual(Peer.config.iceServers[0].urls, ['stun:stun.l.google.com:19302', 'stun:global.stun.twilio.com:3478'], 'default STUN servers')
  t.deepEqual(Peer.channelConfig, {}, 'default channel config')
  t.end()
})

test('ESM import gives the same constructor', async t => {
  const { code, out } = await runNode(['--input-type=module', '-e',
    `import Peer from ${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))}; console.log(typeof Peer, Peer.name, Peer.WEBRTC_SUPPORT)`])
  t.equal(code, 0, 'exit 0')
  t.equal(out.trim(), 'function Peer true', 'default import is the constructor')
})

test('options and their defaults', t => {
  const a = new Peer({ ...LOOPBACK, initiator: true, wrtc: undefined })
  t.equal(a.initiator, true)
  t.equal(typeof a.channelName, 'string', 'initiator gets a random channel name')
  t.equal(a.channelName.length, 40, '20 random bytes in hex')
  t.equal(a.trickle, true, 'trickle defaults to true')
  t.equal(a.allowHalfTrickle, false)
  t.equal(a.iceCompleteTimeout, 5000)
  t.deepEqual(a.config.iceServers, [], 'config merged over Peer.config')
  t.equal(a.config.sdpSemantics, 'unified-plan', 'default keys kept')
  t.equal(a.connected, false)
  t.equal(a.bufferSize, 0)
  t.equal(a.allowHalfOpen, false, 'allowHalfOpen defaults to false')
  const b = new Peer({ ...LOOPBACK, channelName: 'ignored for non-initiator', trickle: false, iceCompleteTimeout: 123 })
  t.equal(b.initiator, false)
  t.equal(b.channelName, null, 'non-initiator has no name until the channel arrives')
  t.equal(b.trickle, false)
  t.equal(b.iceCompleteTimeout, 123)
  const c = new Peer({ ...LOOPBACK, initiator: true, channelName: 'chat' })
  t.equal(c.channelName, 'chat')
  a.destroy(); b.destroy(); c.destroy()
  closed(a, b, c).then(() => t.end())
})

test('connect sets addresses, channel names and emits state events', async t => {
  const [a, b] = pair({ channelName: 'my-channel' })
  const iceStates = []
  const signalingStates = []
  a.on('iceStateChange', (ice, gathering) => iceStates.push([ice, gathering]))
  a.on('signalingStateChange', s => signalingStates.push(s))
  await connected(a, b)
  t.equal(b.channelName, 'my-channel', 'non-initiator learns the channel label')
  for (const p of [a, b]) {
    t.equal(typeof p.remoteAddress, 'string', 'remoteAddress')
    t.equal(typeof p.remotePort, 'number', 'remotePort')
    t.ok(['IPv4', 'IPv6'].includes(p.remoteFamily), 'remoteFamily')
    t.equal(typeof p.localAddress, 'string', 'localAddress')
    t.deepEqual(p.address(), { port: p.localPort, family: p.localFamily, address: p.localAddress }, 'address()')
  }
  t.equal(a.remotePort, b.localPort, 'ports agree across the pair')
  t.ok(iceStates.some(([ice]) => ice === 'connected' || ice === 'completed'), 'iceStateChange reported connected')
  t.ok(signalingStates.includes('have-local-offer') && signalingStates.includes('stable'), 'signalingStateChange reported the offer/answer')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('getStats works with a callback and as a promise', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const viaCallback = await new Promise((resolve, reject) => a.getStats((err, reports) => err ? reject(err) : resolve(reports)))
  t.ok(Array.isArray(viaCallback) && viaCallback.length > 0, 'reports via callback')
  t.ok(viaCallback.some(r => r.type === 'transport'), 'has a transport report')
  const viaPromise = await b.getStats()
  t.ok(viaPromise.some(r => r.type === 'data-channel'), 'has a data-channel report')
  a.destroy(); b.destroy()
  await closed(a, b)
  const err = await a.getStats().catch(e => e)
  t.equal(err.code, 'ERR_DESTROYED', 'after destroy: coded rejection')
})

test('non-trickle peers connect with candidates inside the SDP', async t => {
  const [a, b] = pair({ trickle: false }, { trickle: false })
  const signals = []
  a.on('signal', s => signals.push(s))
  b.on('signal', s => signals.push(s))
  await connected(a, b)
  t.deepEqual(signals.map(s => s.type).sort(), ['answer', 'offer'], 'only an offer and an answer were signaled')
  t.ok(signals.every(s => /a=candidate/.test(s.sdp)), 'each SDP carries candidates')
  t.ok(signals.every(s => !/a=ice-options:trickle/.test(s.sdp)), 'trickle option removed')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('trickle peers signal the SDP as set, and every candidate on its own', async t => {
  // Reading pc.localDescription while ICE gathers races with @roamhq/wrtc's
  // native thread (a crash, or a torn SDP), so with trickle it is not read.
  const [a, b] = pair()
  const signals = { a: [], b: [] }
  a.on('signal', s => signals.a.push(s))
  b.on('signal', s => signals.b.push(s))
  await connected(a, b)
  for (const side of ['a', 'b']) {
    const sdps = signals[side].filter(s => s.sdp)
    t.equal(sdps.length, 1, `${side}: one description`)
    t.notOk(/a=candidate/.test(sdps[0].sdp), `${side}: no candidate inside it`)
    t.ok(/^c=IN IP4 0\.0\.0\.0/m.test(sdps[0].sdp), `${side}: the c= line createOffer/createAnswer wrote`)
    t.ok(signals[side].some(s => s.type === 'candidate'), `${side}: candidates signaled on their own`)
  }
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('signal() accepts the JSON text of a signal', async t => {
  const a = new Peer({ ...LOOPBACK, initiator: true })
  const b = new Peer(LOOPBACK)
  a.on('signal', s => b.signal(JSON.stringify(s)))
  b.on('signal', s => a.signal(JSON.stringify(s)))
  await connected(a, b)
  t.pass('connected through JSON strings')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('sdpTransform rewrites the local SDP', async t => {
  let calls = 0
  const [a, b] = pair({ sdpTransform: sdp => { calls++; return sdp.replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:dpUfrag1') } })
  const offer = await once(a, 'signal')
  t.equal(offer.type, 'offer')
  t.ok(offer.sdp.includes('a=ice-ufrag:dpUfrag1'), 'transformed SDP was applied and sent')
  await connected(a, b)
  t.ok(calls >= 1, 'transform called')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('destroy(err) emits error then close, once; methods after destroy', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const events = []
  a.on('error', e => events.push('error:' + e.message))
  a.on('close', () => events.push('close'))
  const boom = new Error('boom')
  a.destroy(boom)
  a.destroy(new Error('second'))
  await closed(b)
  await new Promise(resolve => setTimeout(resolve, 50))
  t.deepEqual(events, ['error:boom', 'close'], 'one error, then one close')
  t.equal(a.destroyed, true)
  t.equal(a.connected, false)
  t.doesNotThrow(() => a.signal({ type: 'offer', sdp: 'v=0' }), 'signal() after destroy is ignored')
  for (const call of [() => a.send('x'), () => a.negotiate(), () => a.addTransceiver('audio')]) {
    try { call(); t.fail('should throw') } catch (err) { t.equal(err.code, 'ERR_DESTROYED', 'ERR_DESTROYED') }
  }
})

test('remote destroy closes the other side without an error', async t => {
  const [a, b] = pair()
  await connected(a, b)
  let errored = false
  b.on('error', () => { errored = true })
  a.destroy()
  await closed(a, b)
  t.equal(errored, false, 'no error on the other side')
  t.equal(b.destroyed, true, 'other side destroyed')
})

test('end() delivers everything, then both sides close', async t => {
  const [a, b] = pair()
  await connected(a, b)
  const chunks = []
  b.on('data', d => chunks.push(d))
  const ended = once(b, 'end')
  a.end('last words')
  await ended
  t.equal(Buffer.concat(chunks).toString(), 'last words', 'data before end arrived')
  await closed(a, b)
  t.pass('both closed')
})

test('bad RTCPeerConnection config gives ERR_PC_CONSTRUCTOR', async t => {
  const p = new Peer({ config: { iceServers: [{ urls: 'not-a-url' }] } })
  const err = await once(p, 'error')
  t.equal(err.code, 'ERR_PC_CONSTRUCTOR', 'coded error event, not a throw')
  await closed(p)
})

test('no WebRTC implementation: ERR_WEBRTC_SUPPORT and WEBRTC_SUPPORT false', async t => {
  const script = `
    const Module = require('module')
    const load = Module._load
    Module._load = function (request, ...rest) {
      if (request === '@roamhq/wrtc') throw new Error('not installed')
      return load.call(this, request, ...rest)
    }
    const Peer = require(${JSON.stringify(path.join(__dirname, '..'))})
    console.log('support', Peer.WEBRTC_SUPPORT)
    try { new Peer({ wrtc: undefined }) } catch (err) { console.log('code', err.code) }
  `
  const { code, out } = await runNode(['-e', script])
  t.equal(code, 0)
  t.ok(out.includes('support false'), 'WEBRTC_SUPPORT is false')
  t.ok(out.includes('code ERR_WEBRTC_SUPPORT'), 'constructor throws ERR_WEBRTC_SUPPORT')
})

test('a process exits by itself once its peers are destroyed', async t => {
  const script = `
    const Peer = require(${JSON.stringify(path.join(__dirname, '..'))})
    const cfg = { config: { iceServers: [] } }
    let done = 0
    for (let i = 0; i < 3; i++) {
      const a = new Peer({ ...cfg, initiator: true }), b = new Peer(cfg)
      a.on('signal', s => b.signal(s)); b.on('signal', s => a.signal(s))
      b.on('data', () => { a.destroy(); b.destroy() })
      a.on('connect', () => a.write(Buffer.alloc(200000)))
      b.on('close', () => { if (++done === 3) console.log('all closed') })
    }
  `
  const { code, signal, out } = await runNode(['-e', script])
  t.notEqual(signal, 'SIGKILL', 'exited by itself: not killed by the watchdog')
  // @roamhq/wrtc itself sometimes crashes in its own cleanup at exit, with
  // bare RTCPeerConnections as well; that is not a hang, but it is reported.
  t.ok(code === 0 || signal === 'SIGSEGV', `exit code ${code}, signal ${signal}`)
  t.ok(out.includes('all closed'), 'all peers closed first')
})

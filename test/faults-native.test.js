'use strict'
// The WebRTC implementation misbehaving: synchronous throws where promises
// were expected. Each becomes a coded error on that peer alone.
const test = require('tape')
const wrtc = require('@roamhq/wrtc')
const { Peer, LOOPBACK, pair, connected, closed, once, wire } = require('./helpers')

/** A wrtc whose RTCPeerConnection throws synchronously from `method`. */
function brokenWrtc (method, message = 'Failed to parse the connection data. The address type is mismatching.') {
  class BrokenPeerConnection extends wrtc.RTCPeerConnection {}
  BrokenPeerConnection.prototype[method] = function () { throw new Error(message) }
  return { ...wrtc, RTCPeerConnection: BrokenPeerConnection }
}

const cases = [
  ['setRemoteDescription', 'b', 'ERR_SET_REMOTE_DESCRIPTION'],
  ['createOffer', 'a', 'ERR_CREATE_OFFER'],
  ['createAnswer', 'b', 'ERR_CREATE_ANSWER'],
  ['setLocalDescription', 'a', 'ERR_SET_LOCAL_DESCRIPTION'],
  ['addIceCandidate', 'b', 'ERR_ADD_ICE_CANDIDATE'],
  ['createDataChannel', 'a', 'ERR_DATA_CHANNEL']
]

for (const [method, side, code] of cases) {
  test(`${method} throwing synchronously gives ${code} on that peer only`, async t => {
    // A healthy pair in the same process, connected before and after.
    const [h1, h2] = pair()
    await connected(h1, h2)
    const broken = { wrtc: brokenWrtc(method) }
    const a = new Peer({ ...LOOPBACK, initiator: true, ...(side === 'a' ? broken : {}) })
    const b = new Peer({ ...LOOPBACK, ...(side === 'b' ? broken : {}) })
    const victim = side === 'a' ? a : b
    const err = once(victim, 'error')
    t.doesNotThrow(() => wire(a, b), 'nothing thrown to the caller')
    t.equal((await err).code, code, `error code ${code}`)
    a.destroy(); b.destroy()
    await closed(a, b)
    const echo = once(h2, 'data')
    h1.write('healthy pair unaffected')
    t.equal(String(await echo), 'healthy pair unaffected', 'the other pair carries on')
    h1.destroy(); h2.destroy()
    await closed(h1, h2)
  })
}

test('channel.send throwing gives ERR_DATA_CHANNEL, no throw to the writer', async t => {
  const [a, b] = pair()
  await connected(a, b)
  a._channel.send = () => { throw new Error('native send failed') }
  const err = once(a, 'error')
  t.doesNotThrow(() => a.write(Buffer.alloc(70000)), 'write() does not throw')
  t.equal((await err).code, 'ERR_DATA_CHANNEL')
  b.destroy()
  await closed(a, b)
})

test('getStats throwing synchronously still connects (no addresses) and getStats() rejects with a code', async t => {
  const [a, b] = pair({ wrtc: brokenWrtc('getStats') })
  await connected(a, b)
  t.equal(a.remoteAddress, undefined, 'no address known')
  const err = await a.getStats().catch(e => e)
  t.ok(err instanceof Error, 'getStats() rejects')
  a.destroy(); b.destroy()
  await closed(a, b)
})

// libwebrtc can describe a session as `c=IN IP6 192.0.2.2` (the type of one
// candidate, the address of another) and then refuses that SDP from the other
// side. Seen about once in a thousand connections here, so made on purpose.
const MISMATCHED = sdp => sdp.replace(/^c=IN IP4 /gm, 'c=IN IP6 ')

test('the raw implementation refuses an SDP whose c= address type is wrong (what the next tests guard against)', async t => {
  const pc1 = new wrtc.RTCPeerConnection({ iceServers: [] })
  const pc2 = new wrtc.RTCPeerConnection({ iceServers: [] })
  pc1.createDataChannel('x')
  const offer = await pc1.createOffer()
  t.ok(/^c=IN IP4 /m.test(offer.sdp), 'the offer has an IPv4 c= line')
  let refused = null
  try {
    await pc2.setRemoteDescription({ type: 'offer', sdp: MISMATCHED(offer.sdp) })
  } catch (err) {
    refused = err
  }
  t.ok(refused && /address type/i.test(refused.message), 'setRemoteDescription refuses it')
  pc1.close(); pc2.close()
})

test('a remote SDP with a mismatched c= address type is repaired and connects', async t => {
  t.timeoutAfter(30000) // a guard against a hang, not a speed check
  const a = new Peer({ ...LOOPBACK, initiator: true })
  const b = new Peer({ ...LOOPBACK })
  a.on('signal', s => b.signal(s.sdp ? { ...s, sdp: MISMATCHED(s.sdp) } : s))
  b.on('signal', s => a.signal(s.sdp ? { ...s, sdp: MISMATCHED(s.sdp) } : s))
  await connected(a, b)
  const echo = once(b, 'data')
  a.write('through')
  t.equal(String(await echo), 'through', 'data flows')
  a.destroy(); b.destroy()
  await closed(a, b)
})

test('a local SDP with a mismatched c= address type is signaled repaired, so simple-peer 9.11.1 accepts it', async t => {
  t.timeoutAfter(30000) // a guard against a hang, not a speed check
  const SimplePeer = require('simple-peer')
  // @roamhq/wrtc defines localDescription on each instance, unconfigurable:
  // a proxy stands in for the connection to alter what it returns.
  function GlitchyPeerConnection (config) {
    return new Proxy(new wrtc.RTCPeerConnection(config), {
      get (pc, prop) {
        if (prop === 'localDescription') {
          const description = pc.localDescription
          return description && { type: description.type, sdp: MISMATCHED(description.sdp) }
        }
        const value = pc[prop]
        return typeof value === 'function' ? value.bind(pc) : value
      },
      set (pc, prop, value) {
        pc[prop] = value
        return true
      }
    })
  }
  // Without trickle the description is read back from the connection (with
  // trickle the one set is signaled, and the getter is never used).
  const a = new Peer({ ...LOOPBACK, initiator: true, trickle: false, wrtc: { ...wrtc, RTCPeerConnection: GlitchyPeerConnection } })
  const b = new SimplePeer({ ...LOOPBACK, trickle: false, wrtc })
  const sdps = []
  a.on('signal', s => { if (s.sdp) sdps.push(s.sdp); b.signal(s) })
  b.on('signal', s => a.signal(s))
  await connected(a, b)
  t.ok(sdps.length > 0 && sdps.every(sdp => !/^c=IN IP6 \d/m.test(sdp)), 'every signaled c= line has the right type')
  a.destroy(); b.destroy()
  await closed(a, b)
})

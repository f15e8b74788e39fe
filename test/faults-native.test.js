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

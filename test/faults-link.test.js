'use strict'
// A link with delay, loss and cuts, emulated by a UDP relay on 127.0.0.1.
const test = require('tape')
const crypto = require('crypto')
const { Peer, LOOPBACK, closed, once, patternBytes, sha256 } = require('./helpers')
const { Link } = require('./faults/link')

async function linkedPair (linkOpts, peerOpts = {}) {
  const link = await new Link(linkOpts).start()
  const a = new Peer({ ...LOOPBACK, initiator: true, ...peerOpts })
  const b = new Peer({ ...LOOPBACK, ...peerOpts })
  link.wire(a, b)
  return { link, a, b }
}

function receiveAll (peer) {
  const hash = crypto.createHash('sha256')
  let bytes = 0
  peer.on('data', d => { hash.update(d); bytes += d.length })
  return once(peer, 'end').then(() => ({ bytes, digest: hash.digest('hex') }))
}

/** `a.end()`s `size` bytes to `b` over a lossy link: all arrive intact, both close, no error. */
async function lossyTransfer (t, linkOpts, peerOpts, size, seed, checkSetup) {
  const { link, a, b } = await linkedPair(linkOpts, peerOpts)
  const errors = []
  a.on('error', e => errors.push(e)); b.on('error', e => errors.push(e))
  await once(a, 'connect')
  checkSetup(a)
  const data = patternBytes(size, seed)
  const arrival = receiveAll(b)
  a.end(data)
  const { bytes, digest } = await arrival
  t.equal(bytes, data.length, 'every byte arrived')
  t.equal(digest, sha256(data), 'SHA-256 matches')
  await closed(a, b)
  t.ok(link.dropped > 0, `the link dropped ${link.dropped} packets`)
  t.deepEqual(errors, [], 'no errors')
  link.close()
}

test('50 ms RTT with 1 % loss: a transfer arrives intact and end() closes cleanly', async t => {
  await lossyTransfer(t, { delay: 25, loss: 0.01 }, {}, 2 * 1024 * 1024, 21, a => {
    t.equal(a.remoteAddress, '127.0.0.1', 'traffic goes through the relay')
  })
})

test('without a duplex-peer on the other end, end() over a slow lossy link still delivers everything', async t => {
  // With a user channel protocol there is no control channel to confirm
  // receipt (as with simple-peer on the other end): end() waits for the
  // transport to send what the SCTP stack holds, beyond bufferedAmount.
  await lossyTransfer(t, { delay: 25, loss: 0.05, seed: 99 }, { channelConfig: { protocol: 'chat' } }, 1024 * 1024, 23, a => {
    t.equal(a._channel.protocol, 'chat', 'no flow control: the user protocol is kept')
  })
})

test('a cut shorter than the ICE timeouts is survived with no data lost and no error', async t => {
  const { link, a, b } = await linkedPair({})
  const errors = []
  a.on('error', e => errors.push(e)); b.on('error', e => errors.push(e))
  await once(a, 'connect')
  const data = patternBytes(8 * 1024 * 1024, 22)
  const arrival = receiveAll(b)
  let cutDone = false
  let received = 0
  b.on('data', d => {
    received += d.length
    if (!cutDone && received > 1024 * 1024) {
      cutDone = true
      link.down = true
      setTimeout(() => { link.down = false }, 2000)
    }
  })
  a.end(data)
  const { bytes, digest } = await arrival
  t.ok(cutDone, 'the link was cut mid-transfer')
  t.equal(bytes, data.length, 'every byte arrived')
  t.equal(digest, sha256(data), 'SHA-256 matches')
  await closed(a, b)
  t.deepEqual(errors, [], 'no errors')
  link.close()
})

test('a cut longer than the timeouts ends in close and a coded error, not a hang', async t => {
  const { link, a, b } = await linkedPair({}, { disconnectTimeout: 1000 })
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  const errors = []
  a.on('error', e => errors.push(e.code)); b.on('error', e => errors.push(e.code))
  let released = 0
  let writes = 0
  const chunk = Buffer.alloc(64 * 1024)
  link.down = true
  const pump = () => {
    while (!a.destroyed) {
      writes++
      if (!a.write(chunk, () => released++)) return a.once('drain', pump)
    }
  }
  pump()
  await closed(a, b)
  await new Promise(resolve => setImmediate(resolve))
  t.ok(errors.length >= 1, `errors: ${errors.join(', ')}`)
  t.ok(errors.every(code => ['ERR_ICE_CONNECTION_FAILURE', 'ERR_CONNECTION_FAILURE'].includes(code)), 'ICE/connection failure codes')
  t.equal(released, writes, 'every write callback was called')
  link.close()
})

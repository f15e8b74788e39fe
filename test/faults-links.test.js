'use strict'
// Several connections between the same two sides, each through its own relay (test/faults/links.js).
const test = require('tape')
const { Links } = require('./faults/links')

const CONFIG = { iceServers: [] }

/** A raw connection pair made with `links`' implementations; resolves with its open channels. */
async function rawPair (links) {
  const a = new (links.wrtcFor('a').RTCPeerConnection)(CONFIG)
  const b = new (links.wrtcFor('b').RTCPeerConnection)(CONFIG)
  a.onicecandidate = e => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}) }
  b.onicecandidate = e => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}) }
  const send = a.createDataChannel('x')
  const recv = new Promise(resolve => { b.ondatachannel = e => resolve(e.channel) })
  const opened = new Promise(resolve => { send.onopen = resolve })
  const offer = await a.createOffer()
  await a.setLocalDescription(offer)
  await b.setRemoteDescription({ type: offer.type, sdp: offer.sdp })
  const answer = await b.createAnswer()
  await b.setLocalDescription(answer)
  await a.setRemoteDescription({ type: answer.type, sdp: answer.sdp })
  const channel = await recv
  await opened
  return { send, recv: channel, close () { a.close(); b.close() } }
}

const message = (channel) => new Promise(resolve => { channel.onmessage = e => resolve(e.data) })

test('links: each connection pair between two sides gets its own relay; cutting one leaves the others working', async t => {
  const links = new Links({ delay: 5 })
  const pairs = [await rawPair(links), await rawPair(links), await rawPair(links)]
  const relays = await links.all()
  t.equal(relays.length, 3, 'three relays for three pairs')
  for (const [i, p] of pairs.entries()) {
    const got = message(p.recv)
    p.send.send('hello ' + i)
    t.equal(await got, 'hello ' + i, `pair ${i} carries data`)
  }
  const counts = relays.map(r => r.forwarded)
  t.ok(counts.every(n => n > 0), `every relay forwarded packets (${counts.join(', ')})`)
  relays[1].down = true
  const dropped = relays[1].dropped
  for (const i of [0, 2]) {
    const got = message(pairs[i].recv)
    pairs[i].send.send('still ' + i)
    t.equal(await got, 'still ' + i, `pair ${i} still carries data with relay 1 cut`)
  }
  let arrived = false
  pairs[1].recv.onmessage = () => { arrived = true }
  pairs[1].send.send('lost')
  // SCTP sends it, then retransmits it: the cut relay drops every attempt.
  while (relays[1].dropped === dropped) await new Promise(resolve => setTimeout(resolve, 20))
  t.ok(relays[1].dropped > dropped, 'the cut relay drops what pair 1 sends')
  t.notOk(arrived, 'nothing reached pair 1\'s receiver')
  for (const p of pairs) p.close()
  await links.close()
})

test('links: a duplex-peer pair made with the links\' implementations goes through a relay', async t => {
  const { Peer, LOOPBACK, once } = require('./helpers')
  const links = new Links({ delay: 5 })
  const a = new Peer({ ...LOOPBACK, initiator: true, wrtc: links.wrtcFor('a') })
  const b = new Peer({ ...LOOPBACK, wrtc: links.wrtcFor('b') })
  a.on('signal', s => b.signal(s))
  b.on('signal', s => a.signal(s))
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  const [relay] = await links.all()
  t.equal(links.list.length, 1, 'one relay for the pair')
  t.equal(a.remotePort, relay.sockets.b.address().port, 'a reaches b at the relay socket standing for b')
  const got = once(b, 'data')
  a.write('through the relay')
  t.equal(String(await got), 'through the relay', 'data arrives')
  t.ok(relay.forwarded > 0, `the relay forwarded ${relay.forwarded} packets`)
  a.destroy(); b.destroy()
  await links.close()
})

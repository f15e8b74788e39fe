'use strict'
// Media between a duplex-peer and simple-peer 9.11.1, each side adding and removing.
const test = require('tape')
const SimplePeer = require('simple-peer')
const { Peer, LOOPBACK, wire, connected, closed, once } = require('../helpers')
const { wrtc, camera, firstFrame } = require('./helpers')

function nextTrack (peer) {
  return new Promise(resolve => peer.once('track', (track, stream) => resolve({ track, stream })))
}

function mixedPair (duplexInitiates) {
  const ours = new Peer({ ...LOOPBACK, initiator: duplexInitiates })
  const theirs = new SimplePeer({ ...LOOPBACK, initiator: !duplexInitiates, wrtc })
  wire(ours, theirs)
  return { ours, theirs }
}

for (const duplexInitiates of [true, false]) {
  const role = duplexInitiates ? 'duplex-peer initiates' : 'simple-peer initiates'

  test(`${role}: each side adds a track mid-call and the other gets its frames`, async t => {
    const { ours, theirs } = mixedPair(duplexInitiates)
    await connected(ours, theirs)
    const camOurs = camera(96, 64); const camTheirs = camera(64, 48)

    let arrival = nextTrack(theirs)
    ours.addStream(camOurs.stream)
    let got = await arrival
    t.equal(got.stream.id, camOurs.stream.id, 'simple-peer received our stream')
    t.equal((await firstFrame(got.track)).width, 96, 'our frames reach simple-peer')

    arrival = nextTrack(ours)
    theirs.addStream(camTheirs.stream)
    got = await arrival
    t.equal(got.stream.id, camTheirs.stream.id, 'we received simple-peer\'s stream')
    t.equal((await firstFrame(got.track)).width, 64, 'its frames reach us')

    ours.removeStream(camOurs.stream)
    await once(ours, 'negotiated')
    t.pass('renegotiated after our removal')

    const echo = once(ours, 'data')
    theirs.on('data', d => theirs.send(d))
    ours.write('ping')
    t.equal(String(await echo), 'ping', 'data channel still works')
    camOurs.stop(); camTheirs.stop()
    ours.destroy(); theirs.destroy()
    await closed(ours)
  })

  test(`${role}: both start with streams`, async t => {
    const camOurs = camera(96, 64); const camTheirs = camera(64, 48)
    const ours = new Peer({ ...LOOPBACK, initiator: duplexInitiates, stream: camOurs.stream })
    const theirs = new SimplePeer({ ...LOOPBACK, initiator: !duplexInitiates, wrtc, stream: camTheirs.stream })
    wire(ours, theirs)
    const [a, b] = await Promise.all([nextTrack(ours), nextTrack(theirs)])
    t.equal(a.stream.id, camTheirs.stream.id, 'we got theirs')
    t.equal(b.stream.id, camOurs.stream.id, 'they got ours')
    const [fa, fb] = await Promise.all([firstFrame(a.track), firstFrame(b.track)])
    t.deepEqual([fa.width, fb.width], [64, 96], 'frames both ways')
    camOurs.stop(); camTheirs.stop()
    ours.destroy(); theirs.destroy()
    await closed(ours)
  })
}

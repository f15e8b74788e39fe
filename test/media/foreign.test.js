'use strict'
// A track or stream from another copy of @roamhq/wrtc cannot be sent by this
// one: the peer refuses it with ERR_FOREIGN_MEDIA instead of sending nothing.
const test = require('tape')
const fs = require('fs')
const os = require('os')
const path = require('path')
const wrtc = require('@roamhq/wrtc')
const { Peer, LOOPBACK, closed } = require('../helpers')

/** Loads a second copy of @roamhq/wrtc, as a nested install would give an application. */
function secondCopy () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-wrtc-'))
  const scope = path.dirname(require.resolve('@roamhq/wrtc/package.json'))
  const target = path.join(dir, 'node_modules', '@roamhq')
  fs.mkdirSync(target, { recursive: true })
  for (const name of fs.readdirSync(path.dirname(scope))) {
    if (name.startsWith('wrtc')) fs.cpSync(path.join(path.dirname(scope), name), path.join(target, name), { recursive: true })
  }
  return { other: require(path.join(target, 'wrtc')), dir }
}

test('addStream() of a stream from another copy of wrtc throws ERR_FOREIGN_MEDIA', async t => {
  const { other, dir } = secondCopy()
  t.notEqual(other.MediaStreamTrack, wrtc.MediaStreamTrack, 'a distinct copy')
  const track = new other.nonstandard.RTCVideoSource().createTrack()
  const stream = new other.MediaStream([track])
  const peer = new Peer({ ...LOOPBACK, initiator: true })
  try {
    peer.addStream(stream)
    t.fail('addStream did not throw')
  } catch (err) {
    t.equal(err.code, 'ERR_FOREIGN_MEDIA', 'coded error')
    t.match(err.message, /wrtc/, 'the message says how to fix it')
  }
  t.notOk(peer.destroyed, 'the peer stays usable')
  peer.destroy()
  await closed(peer)
  track.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('a foreign stream given to the constructor is reported as an error event', async t => {
  const { other, dir } = secondCopy()
  const track = new other.nonstandard.RTCVideoSource().createTrack()
  const stream = new other.MediaStream([track])
  const peer = new Peer({ ...LOOPBACK, initiator: true, stream })
  const err = await new Promise(resolve => peer.once('error', resolve))
  t.equal(err.code, 'ERR_FOREIGN_MEDIA')
  await closed(peer)
  track.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('media of the peer\'s own wrtc is accepted', async t => {
  const track = new wrtc.nonstandard.RTCVideoSource().createTrack()
  const stream = new wrtc.MediaStream([track])
  const peer = new Peer({ ...LOOPBACK, initiator: true })
  peer.addStream(stream)
  t.pass('no throw')
  peer.destroy()
  await closed(peer)
  track.stop()
})

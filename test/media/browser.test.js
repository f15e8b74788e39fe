'use strict'
// In a real browser, with media: headless Chromium sends a canvas
// captureStream() video track to a duplex-peer in Node, which decodes its
// frames with @roamhq/wrtc's RTCVideoSink. With duplex-peer's standalone
// script, then with simple-peer 9.11.1's. (Data: test/browser.test.js.)
const test = require('tape')
const { startServer } = require('../browser/server')
const { launchChromium, runSession } = require('../browser/harness')
const { wrtc } = require('./helpers')

const WATCHDOG = 180e3
const FRAMES = 10
let server = null
let browser = null

/** Reads frames of `track` until FRAMES have come; resolves with their sizes and the last one's mean luma. */
function watchFrames (track) {
  return new Promise(resolve => {
    const sink = new wrtc.nonstandard.RTCVideoSink(track)
    const sizes = new Set()
    let count = 0
    sink.onframe = ({ frame }) => {
      count++
      sizes.add(`${frame.width}x${frame.height}`)
      if (count < FRAMES) return
      sink.onframe = null
      sink.stop()
      // I420: the first width × height bytes are the luma plane.
      const pixels = frame.width * frame.height
      let sum = 0
      for (let i = 0; i < pixels; i++) sum += frame.data[i]
      resolve({ kind: track.kind, count, sizes: [...sizes], lastSize: [frame.width, frame.height], meanLuma: sum / pixels })
    }
  })
}

test('browser media: start Chromium and the relay', async t => {
  t.timeoutAfter(WATCHDOG)
  server = await startServer()
  browser = await launchChromium()
  t.pass(`Chromium ${browser.version} is up`)
})

for (const lib of ['duplex-peer', 'simple-peer']) {
  const script = lib === 'duplex-peer' ? 'dist/duplex-peer.min.js' : 'simple-peer 9.11.1 simplepeer.min.js'
  test(`browser media: Chromium (${script}) sends a canvas captureStream() track; Node gets track and frames`, async t => {
    t.timeoutAfter(WATCHDOG)
    if (!browser) return t.fail('Chromium did not start')
    const { browser: page, node } = await runSession(t, { browser, server, lib, media: true, watchTrack: watchFrames })
    t.equal(node.greeting, 'hello from the browser', 'data channel alongside: browser → Node')
    t.equal(page.greeting, 'hello from node', 'data channel alongside: Node → browser')
    t.equal(node.tracks.length, 1, 'one track event in Node')
    t.equal(node.tracks[0].kind, 'video', 'a video track')
    t.equal(node.frames.count, FRAMES, `${FRAMES} frames decoded in Node (sizes: ${node.frames.sizes.join(', ')})`)
    const [width, height] = node.frames.lastSize
    t.ok(width > 0 && height > 0 && Math.abs(width / height - 320 / 240) < 0.05, `frames have the canvas' 4:3 shape (${width}x${height})`)
    // The canvas is mostly rgb(200, 200, 200), with a small dark square.
    t.ok(node.frames.meanLuma > 150 && node.frames.meanLuma < 225, `frames show the canvas (mean luma ${node.frames.meanLuma.toFixed(1)})`)
    t.equal(page.media, 'frames received', 'the browser heard back')
    t.ok(node.ended && node.closed && page.closed, 'clean end on both sides')
    t.deepEqual(node.errors, [], 'no error in Node')
  })
}

test('browser media: stop Chromium and the relay', async t => {
  if (browser) await browser.close()
  if (server) await server.close()
  browser = server = null
  t.pass('stopped')
})

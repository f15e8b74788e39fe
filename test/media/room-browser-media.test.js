'use strict'
// Rooms with media across Node and Chromium: a page shares a canvas
// captureStream() in a room (room.share), and a Node member of the room
// gets it as stream:add with its label and decodes its frames; a Node
// member shares a video (an @roamhq/wrtc source), and the page plays it.
// Both sides meet through the room relay of duplex-peer/server.
const test = require('tape')
const { Room, WebSocketDriver } = require('../../dist/room')
const { launchChromium } = require('../browser/harness')
const { startRoomServer, openRoomPage } = require('../browser/room-server')
const { LOOPBACK, allConnected } = require('../room-helpers')
const { camera, firstFrame } = require('./helpers')

const WATCHDOG = 180e3

function next (room, event, filter = () => true) {
  return new Promise(resolve => {
    const listener = e => { if (filter(e)) { room.off(event, listener); resolve(e) } }
    room.on(event, listener)
  })
}

test('room browser media: a canvas shared from a page arrives in Node, a Node video arrives in the page', async t => {
  t.timeoutAfter(WATCHDOG)
  const server = await startRoomServer()
  const browser = await launchChromium()
  const logs = []
  const driver = new WebSocketDriver(server.relay)
  const id = `media-${Math.random().toString(36).slice(2)}`
  const room = new Room({ id, driver, ...LOOPBACK, connectionTimeout: 30e3 })
  const cam = camera(160, 120)
  try {
    const page = await openRoomPage(browser, server, logs, 'page')
    await room.join({ name: 'node' })
    await page.evaluate(o => window.joinRoom(o), { relay: server.relay, id, name: 'page' })
    await page.evaluate(() => window.watchMedia())
    await allConnected(room, 1)
    t.deepEqual(await page.evaluate(() => window.connected(1)), ['node'], 'the page and the Node member are connected')

    const canvasAdded = next(room, 'stream:add', e => e.label === 'canvas')
    await page.evaluate(() => window.shareCanvas('canvas'))
    const added = await canvasAdded
    t.equal(added.peer.metadata.name, 'page', 'Node: stream:add from the page')
    t.deepEqual(added.stream.getTracks().map(tr => tr.kind), ['video'], 'with the canvas\' video track, under its label')
    const frame = await firstFrame(added.stream.getVideoTracks()[0])
    t.ok(frame.width > 0 && Math.abs(frame.width / frame.height - 320 / 240) < 0.05, `Node decodes the canvas' frames (${frame.width}x${frame.height})`)

    room.share({ label: 'node-cam', stream: cam.stream })
    await page.waitForFunction(() => window.mediaEvents.some(e => e.name === 'stream:add' && e.label === 'node-cam'))
    const events = await page.evaluate(() => window.mediaEvents)
    t.deepEqual(events.filter(e => e.label === 'node-cam').map(e => [e.name, e.from, e.kinds.join()]), [['stream:add', 'node', 'video']], 'page: stream:add from Node, with its label')
    const played = await page.evaluate(() => window.playRemote('node', 'node-cam'))
    t.deepEqual(played, { width: 160, height: 120 }, 'the page plays the Node video at its size')

    room.unshare('node-cam')
    await page.waitForFunction(() => window.mediaEvents.some(e => e.name === 'stream:remove' && e.label === 'node-cam'))
    t.pass('page: stream:remove once Node unshares')
    await page.evaluate(() => window.leaveRoom())
  } catch (err) {
    t.comment(logs.join('\n'))
    throw err
  } finally {
    cam.stop()
    await room.leave()
    await driver.close()
    await browser.close()
    await server.close()
  }
})

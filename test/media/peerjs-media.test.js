'use strict'
// Calls with duplex-peer/peerjs: between two Node peers, and with PeerJS 1.5.5
// in Chromium in each direction, through duplex-peer/server and peer@1.0.2.
const test = require('tape')
const { startServer, startReferenceServer, openPeer, once, RTC_CONFIG } = require('../peerjs/helpers')
const { available, startBrowser } = require('../peerjs/browser')
const { camera, firstFrame } = require('./helpers')

const SERVERS = { 'duplex-peer/server': startServer, 'peer@1.0.2': startReferenceServer }

test('Node calls Node: streams both ways, metadata, close reaches the other side', async t => {
  const server = await startServer()
  const a = await openPeer(server.port)
  const b = await openPeer(server.port)
  const camA = camera(160, 120)
  const camB = camera(96, 64)
  const call = a.call(b.id, camA.stream, { metadata: { room: 7 } })
  const incoming = await once(b, 'call')
  t.deepEqual(incoming.metadata, { room: 7 }, 'metadata seen by the callee')
  t.equal(incoming.peer, a.id, 'caller id')
  t.equal(incoming.peerConnection, null, 'nothing starts before answer()')
  const atB = once(incoming, 'stream')
  const atA = once(call, 'stream')
  incoming.answer(camB.stream)
  const [streamAtA, streamAtB] = await Promise.all([atA, atB])
  t.equal(streamAtB.id, camA.stream.id, 'callee got the caller\'s stream')
  t.equal(streamAtA.id, camB.stream.id, 'caller got the callee\'s stream')
  t.equal((await firstFrame(streamAtB.getVideoTracks()[0])).width, 160, 'caller frames reach the callee')
  t.equal((await firstFrame(streamAtA.getVideoTracks()[0])).width, 96, 'callee frames reach the caller')
  t.ok(call.open && incoming.open, 'both open')
  const closed = once(incoming, 'close')
  call.close()
  await closed
  t.pass('closing the call closes it on the other side')
  camA.stop(); camB.stop()
  a.destroy(); b.destroy()
  await server.close()
})

for (const [serverName, start] of Object.entries(SERVERS)) {
  test(`media calls with PeerJS in Chromium, each direction, through ${serverName}`, { skip: !available }, async t => {
    const server = await start()
    const browser = await startBrowser()
    const { page } = browser
    const browserId = await page.evaluate(options => window.h.start('browser-peer', options),
      { host: '127.0.0.1', port: server.port, secure: false, config: RTC_CONFIG })
    const node = await openPeer(server.port, 'node-peer')

    // Node calls the browser, which answers with its (fake) camera.
    const cam = camera(160, 120)
    const call = node.call(browserId, cam.stream, { metadata: { caller: 'node' } })
    const remoteAtNode = once(call, 'stream')
    const answered = await page.evaluate(() => window.h.answerNextCall(true))
    t.deepEqual(answered.metadata, { caller: 'node' }, 'Node → browser: metadata seen in the browser')
    t.equal(answered.width, 160, 'Node → browser: our frames play in the browser')
    const stream = await remoteAtNode
    const frame = await firstFrame(stream.getVideoTracks()[0])
    t.ok(frame.width > 0, `Node → browser: the browser's camera reaches Node (${frame.width}x${frame.height})`)
    call.close()

    // The browser calls Node, which answers with its stream.
    const incomingP = once(node, 'call')
    const browserSide = page.evaluate(() => window.h.call('node-peer', { caller: 'browser' }))
    const incoming = await incomingP
    t.deepEqual(incoming.metadata, { caller: 'browser' }, 'browser → Node: metadata seen in Node')
    const remote = once(incoming, 'stream')
    const cam2 = camera(96, 64)
    incoming.answer(cam2.stream)
    const seen = await browserSide
    t.equal(seen.width, 96, 'browser → Node: our answer\'s frames play in the browser')
    const fromBrowser = await firstFrame((await remote).getVideoTracks()[0])
    t.ok(fromBrowser.width > 0, `browser → Node: the browser's camera reaches Node (${fromBrowser.width}x${fromBrowser.height})`)

    cam.stop(); cam2.stop()
    node.destroy()
    await browser.close()
    await server.close()
  })
}

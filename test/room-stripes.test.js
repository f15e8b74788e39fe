'use strict'
// Rooms with the `stripes` option: each connection's Peer stripes its own
// stream, which carries room.send() on labels not opened with open().
const test = require('tape')
const { Room, MemoryDriver, MemoryHub, LOOPBACK, withMesh, messages, sha256, patternBytes } = require('./room-helpers')

/** The 'stripes' report of a room peer's connection, or undefined. */
async function stripesReport (roomPeer) {
  const reports = await roomPeer.peer.getStats()
  return reports.find(r => r.type === 'stripes')
}

test('room stripes: 4 agreed, several stripes open, 8 MiB arrive intact', async t => {
  t.timeoutAfter(120e3)
  await withMesh(2, async rooms => {
    const [a, b] = rooms
    const toB = a.peers.get(b.localId)
    const toA = b.peers.get(a.localId)
    // The extra connections open after the first one; wait for a second stripe (no time limit but the test's).
    let report = await stripesReport(toB)
    while (!(report && report.agreed === 4 && report.open.length > 1)) {
      await new Promise(resolve => setTimeout(resolve, 50))
      report = await stripesReport(toB)
    }
    t.equal(report.option, 4, 'sender: the option is 4')
    t.equal(report.agreed, 4, 'sender: 4 agreed')
    t.ok(report.open.length > 1, `sender: ${report.open.length} stripes open`)
    const remote = await stripesReport(toA)
    t.equal(remote && remote.agreed, 4, 'receiver: 4 agreed')

    const payload = patternBytes(8 * 1024 * 1024, 7)
    const arrived = messages(b, 1)
    const transfer = a.send(payload, { to: b.localId, label: 'bulk' })
    const [got] = await arrived
    await transfer
    t.equal(got.total, payload.length, 'the size announced')
    t.equal(got.data.length, payload.length, 'every byte arrived')
    t.equal(sha256(got.data), sha256(payload), 'intact (SHA-256)')
    const after = await stripesReport(toB)
    t.equal(after.framed, true, 'the sender sent frames on the stripes')
    t.ok(after.open.length > 1, `sender: ${after.open.length} stripes open after the transfer`)

    // A message back, and one on a label with a channel of its own (not striped), still arrive.
    const opened = room => new Promise(resolve => room.on('channel:open', e => { if (e.label === 'side') resolve() }))
    const bothOpen = Promise.all([opened(a), opened(b)])
    a.open({ label: 'side' })
    await bothOpen
    t.deepEqual(toA.channels, ['side'], 'the label has a channel of its own')
    const back = messages(a, 2)
    await Promise.all([b.send('reply', { to: a.localId }), b.send('on its channel', { to: a.localId, label: 'side' })])
    const replies = (await back).map(m => `${m.label}:${m.data}`).sort()
    t.deepEqual(replies, ['default:reply', 'side:on its channel'], 'messages on the default label and on an opened label arrive')
  }, { stripes: 4 })
})

test('room stripes: without the option, no stripes report (one connection per peer)', async t => {
  t.timeoutAfter(60e3)
  await withMesh(2, async rooms => {
    const report = await stripesReport(rooms[0].peers.get(rooms[1].localId))
    t.equal(report, undefined, 'no stripes report')
  })
})

test('room stripes: the option is checked', t => {
  const hub = new MemoryHub()
  const make = stripes => new Room({ id: 'stripes-check', driver: new MemoryDriver(hub), ...LOOPBACK, stripes })
  for (const good of [1, 4, 8, 'auto', undefined]) {
    t.doesNotThrow(() => make(good), `stripes ${JSON.stringify(good)}: accepted`)
  }
  for (const bad of [0, 9, 2.5, -1, NaN, '4', 'many', null, {}]) {
    t.throws(() => make(bad), err => err.code === 'ERR_INVALID_OPTION', `stripes ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}: ERR_INVALID_OPTION`)
  }
  t.end()
})

'use strict'
// Rooms: labelled channels (room.open / room.close), each a negotiated data
// channel of its own per pair; peer.channel(label) byte streams; signaling
// over the connection once connected (the broker hears nothing more); and
// room.ready().
const test = require('tape')
const { Room, MemoryHub, LOOPBACK, makeRooms, allConnected, messages, leaveAll, sha256, patternBytes, withMesh, CountingDriver, drained } = require('./room-helpers')
const { Readable } = require('stream')

const FIRST_ID = 512
const LAST_ID = 1023
const PIPE_WINDOW = 1024 * 1024

/** `n` joined rooms on counting drivers, all connected to each other. */
async function countedMesh (n) {
  const hub = new MemoryHub()
  const id = `room-${Math.random().toString(36).slice(2)}`
  const drivers = Array.from({ length: n }, () => new CountingDriver(hub))
  const rooms = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: 20e3 }))
  await Promise.all(rooms.map(room => room.join()))
  await Promise.all(rooms.map(room => allConnected(room, n - 1)))
  // Whatever was on its way to the broker before the last connection came up has gone out.
  await drained(rooms, () => drivers.reduce((sum, driver) => sum + driver.published, 0))
  return { rooms, drivers }
}

function once (emitter, event, filter = () => true) {
  return new Promise(resolve => {
    const listener = (...args) => {
      if (!filter(...args)) return
      emitter.off(event, listener)
      resolve(args[0])
    }
    emitter.on(event, listener)
  })
}

/** Resolves once `room` saw `channel:open` for `label` from each of `count` peers. */
function opened (room, label, count) {
  return new Promise(resolve => {
    const seen = new Set()
    const check = () => {
      for (const peer of room.peers.values()) {
        if (peer.state === 'connected' && channelId(peer, label) !== null && peer.link.channels.entries.get(`frames\u0000${label}`).ready) seen.add(peer.id)
      }
      if (seen.size >= count) {
        room.off('channel:open', check)
        resolve()
      }
    }
    room.on('channel:open', check)
    check()
  })
}

/** The id of the labelled channel to a peer (the connection's own accounting). */
function channelId (roomPeer, label, kind = 'frames') {
  return roomPeer.link.channels.idOf(kind, label)
}

function channelOf (roomPeer, label, kind = 'frames') {
  return roomPeer.link.channels.entries.get(`${kind}\u0000${label}`).channel
}

/** The data channels of a connection, as its stats report them. */
async function statsChannels (roomPeer) {
  const reports = await roomPeer.peer.getStats()
  return reports.filter(r => r.type === 'data-channel')
}

function mirror (rooms, a, b) {
  return rooms[b].peers.get(rooms[a].localId)
}

test('room channels: open() makes one negotiated channel per pair in the id range; messages on the label travel on it', async t => {
  t.timeoutAfter(60e3)
  await withMesh(3, async rooms => {
    const [a, b, c] = rooms
    const news = [b, c].map(room => once(room, 'channel:new', e => e.label === 'chat' && e.peer.id === a.localId))
    const opens = rooms.map(room => opened(room, 'chat', room === a ? 2 : 1))
    a.open({ label: 'chat' })
    a.open({ label: 'chat' }) // again: nothing more
    const [newOnB] = await Promise.all(news)
    t.equal(newOnB.peer.id, a.localId, 'channel:new on the other side, with the opener as peer')
    await Promise.all(opens)
    for (const peer of a.peers.values()) {
      const id = channelId(peer, 'chat')
      const back = channelId(rooms.find(r => r.localId === peer.id).peers.get(a.localId), 'chat')
      t.equal(id, back, `both ends of a|${peer.id.slice(0, 6)} use the same id`)
      t.ok(id >= FIRST_ID && id <= LAST_ID, `id ${id} is in ${FIRST_ID}..${LAST_ID}`)
      t.deepEqual(peer.channels, ['chat'], 'roomPeer.channels lists the label')
    }
    t.equal(channelId(b.peers.get(c.localId), 'chat'), null, 'no channel between b and c: neither opened it')

    // Sent after channel:open, a message goes on the labelled channel, not the Peer's main one.
    const toB = a.peers.get(b.localId)
    let mainWrites = 0
    const write = toB.peer.write
    toB.peer.write = function (...args) { mainWrites++; return write.apply(this, args) }
    const payload = patternBytes(300 * 1024, 3)
    const arrival = messages(b, 1, 'chat')
    await a.send(payload, { label: 'chat', to: b.localId })
    const [event] = await arrival
    t.equal(sha256(event.data), sha256(payload), '300 KiB arrived intact on the labelled channel')
    t.equal(mainWrites, 0, 'no frame of it was written to the main channel')
    // Stats are cached for a moment: read them until they show the channel's bytes.
    let chat
    do {
      if (chat !== undefined) await new Promise(resolve => setTimeout(resolve, 100))
      chat = (await statsChannels(toB)).find(r => r.label === 'chat') || null
    } while (!chat || chat.bytesSent < payload.byteLength)
    t.ok(chat.bytesSent >= payload.byteLength, `the chat channel's stats count the bytes (${chat.bytesSent})`)
    toB.peer.write = write

    // A label not opened keeps using the main channel.
    const other = messages(b, 1, 'other')
    await a.send('on the main channel', { label: 'other', to: b.localId })
    t.equal((await other)[0].data, 'on the main channel', 'a label not opened still arrives')
    t.ok(mainWrites === 0 && toB.peer.write === write, 'spy removed')
  })
})

test('room channels: both sides open the same label at once: exactly one channel; close() closes it on both sides', async t => {
  t.timeoutAfter(60e3)
  await withMesh(2, async rooms => {
    const [a, b] = rooms
    const news = rooms.map(room => { const got = []; room.on('channel:new', e => got.push(e.label)); return got })
    const opens = rooms.map(room => opened(room, 'chat', 1))
    a.open({ label: 'chat', ordered: true })
    b.open({ label: 'chat', ordered: false })
    await Promise.all(opens)
    const ab = a.peers.get(b.localId)
    const ba = b.peers.get(a.localId)
    t.equal(channelId(ab, 'chat'), channelId(ba, 'chat'), 'one id on both ends')
    t.deepEqual(news, [['chat'], ['chat']], 'one channel:new per side')
    const initiator = ab.peer.initiator ? a : b
    const both = [messages(a, 1, 'chat'), messages(b, 1, 'chat')]
    a.send('from a', { label: 'chat' })
    b.send('from b', { label: 'chat' })
    t.deepEqual((await Promise.all(both)).map(([e]) => e.data), ['from b', 'from a'], 'a message each way on it')
    // The stats of a new channel may take a moment to show.
    const settled = async peer => {
      for (;;) {
        const stats = await statsChannels(peer)
        if (stats.some(r => r.label === 'chat')) return stats
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
    const [statsA, statsB] = await Promise.all([settled(ab), settled(ba)])
    t.deepEqual(statsA.filter(r => r.label === 'chat').map(r => r.dataChannelIdentifier), [channelId(ab, 'chat')], 'a\'s connection has one chat channel, of that id')
    t.deepEqual(statsB.filter(r => r.label === 'chat').map(r => r.dataChannelIdentifier), [channelId(ab, 'chat')], 'b\'s connection has one chat channel, of that id')
    const ordered = channelOf(initiator === a ? ab : ba, 'chat').ordered
    t.equal(channelOf(ab, 'chat').ordered, ordered, 'both ends have the initiator\'s delivery options')
    t.equal(channelOf(ba, 'chat').ordered, ordered, '(on both sides)')

    const closes = rooms.map(room => once(room, 'channel:close', e => e.label === 'chat'))
    a.close('chat')
    await Promise.all(closes)
    t.pass('channel:close on both sides')
    t.deepEqual([ab.channels, ba.channels], [[], []], 'no labelled channel left')
    const after = messages(b, 1, 'chat')
    a.send('after close', { label: 'chat' })
    t.equal((await after)[0].data, 'after close', 'the label goes on the main channel again')

    // Opening it again makes a new channel.
    const reopened = rooms.map(room => opened(room, 'chat', 1))
    a.open({ label: 'chat' })
    await Promise.all(reopened)
    t.equal(channelId(ab, 'chat'), channelId(ba, 'chat'), 'reopened with one id on both ends')
  })
})

test('room channels: messages sent right after open() arrive, from either side of each pair', async t => {
  t.timeoutAfter(60e3)
  await withMesh(3, async rooms => {
    const got = rooms.map(room => messages(room, 2 * 20, 'now'))
    rooms.forEach((room, i) => {
      room.open({ label: 'now' })
      for (let n = 0; n < 20; n++) room.send(`p${i} #${n}`, { label: 'now' })
    })
    const received = await Promise.all(got)
    received.forEach((events, i) => {
      for (const peer of rooms[i].peers.values()) {
        const from = events.filter(e => e.peer === peer).map(e => e.data)
        const j = rooms.findIndex(r => r.localId === peer.id)
        t.deepEqual(from, Array.from({ length: 20 }, (_, n) => `p${j} #${n}`), `p${i} got p${j}'s 20 messages, in order`)
      }
    })
  })
})

test('room channels: 40 MiB on a labelled channel (more than libwebrtc buffers) arrive intact; a chat message overtakes them', async t => {
  t.timeoutAfter(120e3)
  await withMesh(2, async rooms => {
    const [a, b] = rooms
    const opens = rooms.map(room => opened(room, 'big', 1))
    a.open({ label: 'big' })
    await Promise.all(opens)
    const payload = patternBytes(40 * 1024 * 1024, 11)
    // In the order each arrived whole (a message is announced when it starts).
    const events = []
    b.on('channel:message', e => { e.data.then(data => events.push({ label: e.label, data })) })
    const closes = []
    rooms.forEach(room => room.on('channel:close', e => closes.push(e)))
    const big = a.send(payload, { label: 'big' })
    const chat = a.send('small', { label: 'big' })
    await Promise.all([big, chat])
    t.deepEqual(events.map(e => e.label), ['big', 'big'], 'both arrived')
    t.equal(events[0].data, 'small', 'the small message arrived first')
    t.equal(sha256(events[1].data), sha256(payload), 'SHA-256 of the 40 MiB matches')
    t.deepEqual(closes, [], 'the channel was never closed (its buffer stayed under the limit)')
  })
})

test('room channels: a peer joining later gets the open labels', async t => {
  t.timeoutAfter(60e3)
  const { rooms } = makeRooms(3)
  const [a, b, c] = rooms
  try {
    await Promise.all([a.join(), b.join()])
    await Promise.all([allConnected(a, 1), allConnected(b, 1)])
    a.open({ label: 'news' })
    await opened(a, 'news', 1)
    const cOpened = opened(c, 'news', 1)
    const aOpened = opened(a, 'news', 2)
    await c.join()
    await Promise.all([cOpened, aOpened, allConnected(c, 2)])
    const ca = c.peers.get(a.localId)
    t.equal(channelId(ca, 'news'), channelId(a.peers.get(c.localId), 'news'), 'the late peer has the channel, one id on both ends')
    t.equal(channelId(c.peers.get(b.localId), 'news'), null, 'and none with a peer that did not open it')
    const got = messages(c, 1, 'news')
    a.send({ headline: 'late but there' }, { label: 'news' })
    t.deepEqual((await got)[0].data, { headline: 'late but there' }, 'messages on it arrive')
  } finally {
    await leaveAll(rooms)
  }
})

test('room channels: an unreliable channel carries messages that fit one frame, refuses others with ERR_UNRELIABLE_MESSAGE', async t => {
  t.timeoutAfter(60e3)
  await withMesh(2, async rooms => {
    const [a, b] = rooms
    const opens = rooms.map(room => opened(room, 'fast', 1))
    a.open({ label: 'fast', ordered: false, maxRetransmits: 0 })
    await Promise.all(opens)
    t.equal(channelOf(a.peers.get(b.localId), 'fast').maxRetransmits, 0, 'the channel is unreliable')
    const got = messages(b, 1, 'fast')
    await a.send({ x: 1, y: 2 }, { label: 'fast' })
    t.pass('a small message resolves once sent')
    t.deepEqual((await got)[0].data, { x: 1, y: 2 }, 'and arrives (loopback loses nothing)')
    try {
      await a.send(new Uint8Array(100 * 1024), { label: 'fast' })
      t.fail('a 100 KiB message should fail')
    } catch (err) {
      t.equal(err.code, 'ERR_UNRELIABLE_MESSAGE', 'a 100 KiB message fails with ERR_UNRELIABLE_MESSAGE')
    }
    try {
      const stream = Readable.from([Buffer.from('a stream')])
      stream.on('error', () => {}) // destroyed with the transfer's error
      await a.send(stream, { label: 'fast' })
      t.fail('a stream should fail')
    } catch (err) {
      t.equal(err.code, 'ERR_UNRELIABLE_MESSAGE', 'a stream fails with ERR_UNRELIABLE_MESSAGE')
    }
    t.throws(() => a.open({ label: 'x', maxRetransmits: 1, maxPacketLifeTime: 10 }), /ERR_INVALID_OPTION|cannot both/, 'both limits: ERR_INVALID_OPTION')
    for (const bad of [null, {}, { label: '' }, { label: 'x'.repeat(256) }, { label: 'x', ordered: 'yes' }, { label: 'x', maxRetransmits: -1 }]) {
      try {
        a.open(bad)
        t.fail(`open(${JSON.stringify(bad)}) should throw`)
      } catch (err) {
        t.equal(err.code, 'ERR_INVALID_OPTION', `open(${JSON.stringify(bad)}): ERR_INVALID_OPTION`)
      }
    }
    try {
      a.close(42)
      t.fail('close(42) should throw')
    } catch (err) {
      t.equal(err.code, 'ERR_INVALID_OPTION', 'close(42): ERR_INVALID_OPTION')
    }
  })
})

test('room channels: once connected, opening channels, sending and piping publish nothing to the broker', async t => {
  t.timeoutAfter(60e3)
  const { rooms, drivers } = await countedMesh(3)
  try {
    const mark = drivers.map(d => d.published)
    t.ok(mark.every(n => n > 0), `the broker was used to meet (${mark.join(', ')} messages)`)
    const [a, b, c] = rooms
    const opens = rooms.map(room => opened(room, 'chat', 2))
    a.open({ label: 'chat' })
    c.open({ label: 'chat' })
    await Promise.all(opens)
    const chats = messages(b, 2, 'chat')
    a.send('hi', { label: 'chat' })
    c.send('hi', { label: 'chat' })
    await chats
    const pipe = a.peers.get(b.localId).channel('pipe')
    const other = b.peers.get(a.localId).channel('pipe')
    const echoed = once(pipe, 'data')
    other.on('data', d => other.write(d))
    pipe.write('ping')
    t.equal(String(await echoed), 'ping', 'a pipe works')
    // A renegotiation: the Peer's own signaling now goes over the connection.
    const negotiated = once(a.peers.get(b.localId).peer, 'negotiated')
    a.peers.get(b.localId).peer.negotiate()
    await negotiated
    t.pass('a renegotiation completed')
    t.deepEqual(drivers.map(d => d.published), mark, 'nothing more was published by any room')
    pipe.destroy()
    other.on('error', () => {})
  } finally {
    await leaveAll(rooms)
  }
})

test('room channels: peer.channel(label) is a Duplex with backpressure; 16 MiB both ways arrive intact with end()', async t => {
  t.timeoutAfter(120e3)
  await withMesh(2, async rooms => {
    const [a, b] = rooms
    const ab = a.peers.get(b.localId).channel('bulk')
    t.equal(a.peers.get(b.localId).channel('bulk'), ab, 'channel(label) again: the same stream')
    const ba = b.peers.get(a.localId).channel('bulk')
    t.equal(typeof ab.pipe, 'function', 'a stream with pipe()')
    const size = 16 * 1024 * 1024
    const dataA = patternBytes(size, 5)
    const dataB = patternBytes(size, 9)

    // Backpressure: b does not read at first; what it holds stays within the window.
    let held = 0
    const push = ba.push
    ba.push = function (chunk) {
      const more = push.call(this, chunk)
      held = Math.max(held, this.readableLength)
      return more
    }
    ba.pause()
    const collect = stream => new Promise((resolve, reject) => {
      const chunks = []
      stream.on('data', chunk => chunks.push(chunk))
      stream.on('end', () => resolve(Buffer.concat(chunks)))
      stream.on('error', reject)
    })
    const written = stream => new Promise((resolve, reject) => stream.once('finish', resolve).once('error', reject))
    const gotOnA = collect(ab)
    const aFinished = written(ab)
    const bFinished = written(ba)
    for (let offset = 0; offset < size; offset += 1024 * 1024) ab.write(dataA.subarray(offset, offset + 1024 * 1024))
    ab.end()
    // Wait until b holds a full window, then let it read.
    await new Promise(resolve => {
      const poll = () => ba.readableLength >= PIPE_WINDOW ? resolve() : setTimeout(poll, 10)
      poll()
    })
    t.ok(ab.writableLength > 0, `the writer holds the rest (${ab.writableLength} bytes queued)`)
    const gotOnB = collect(ba)
    ba.resume()
    ba.end(dataB)
    const [onB, onA] = await Promise.all([gotOnB, gotOnA, aFinished, bFinished])
    t.ok(held <= PIPE_WINDOW, `the paused reader never held more than the window (${held} bytes)`)
    t.equal(onB.length, size, '16 MiB arrived at b')
    t.equal(sha256(onB), sha256(dataA), 'SHA-256 matches a → b')
    t.equal(onA.length, size, '16 MiB arrived at a')
    t.equal(sha256(onA), sha256(dataB), 'SHA-256 matches b → a')
    await Promise.all([ab, ba].map(s => s.destroyed ? null : once(s, 'close')))
    t.pass('both ends closed once both directions ended')
    const again = a.peers.get(b.localId).channel('bulk')
    t.notEqual(again, ab, 'channel(label) after the close makes a new stream')
    again.destroy()
  })
})

test('room channels: a pipe destroyed on one side fails the other with ERR_CHANNEL_CLOSED; leave() fails open pipes', async t => {
  t.timeoutAfter(60e3)
  await withMesh(2, async rooms => {
    const [a, b] = rooms
    const ab = a.peers.get(b.localId).channel('p')
    const ba = b.peers.get(a.localId).channel('p')
    const echoed = once(ba, 'data')
    ab.write('x')
    await echoed
    const failed = once(ba, 'error')
    ab.destroy()
    t.equal((await failed).code, 'ERR_CHANNEL_CLOSED', 'the other end fails with ERR_CHANNEL_CLOSED')

    const toB = a.peers.get(b.localId)
    const q = toB.channel('q')
    const qFailed = once(q, 'error')
    const left = once(a, 'peer:leave')
    await b.leave()
    // Whichever a sees first: b's leave (through the broker), or the channel closing.
    t.ok(['ERR_PEER_CLOSED', 'ERR_CHANNEL_CLOSED'].includes((await qFailed).code), 'a pipe to a peer that left fails with ERR_PEER_CLOSED or ERR_CHANNEL_CLOSED')
    await left
    try {
      toB.channel('r')
      t.fail('channel() on a closed connection should throw')
    } catch (err) {
      t.equal(err.code, 'ERR_PEER_CLOSED', 'channel() on a closed connection: ERR_PEER_CLOSED')
    }
  })
})

test('room.ready(): resolves when n peers (default: those known) are connected, rejects on leave or a bad n', async t => {
  t.timeoutAfter(60e3)
  const { rooms } = makeRooms(3)
  try {
    const [a] = rooms
    t.equal(await a.ready(0), undefined, 'ready(0) resolves at once')
    const two = a.ready(2)
    await Promise.all(rooms.map(room => room.join()))
    await two
    t.equal([...a.peers.values()].filter(p => p.state === 'connected').length, 2, 'ready(2) resolved with two peers connected')
    // ready() waits for the peers known when it is called; a room may meet
    // another one meanwhile (b and c need not know each other yet).
    const known = rooms.map(room => [...room.peers.values()])
    await Promise.all(rooms.map(room => room.ready()))
    t.ok(known.every(peers => peers.every(p => p.state === 'connected')), 'ready() resolved once every peer known at the call was connected')
    t.ok(known[0].length === 2, 'a knew both others')
    for (const bad of [-1, 1.5, 'two']) {
      try {
        await a.ready(bad)
        t.fail(`ready(${bad}) should reject`)
      } catch (err) {
        t.equal(err.code, 'ERR_INVALID_OPTION', `ready(${JSON.stringify(bad)}): ERR_INVALID_OPTION`)
      }
    }
    const never = a.ready(5)
    await a.leave()
    try {
      await never
      t.fail('ready(5) should reject')
    } catch (err) {
      t.equal(err.code, 'ERR_NOT_JOINED', 'a ready() still waiting rejects with ERR_NOT_JOINED on leave()')
    }
  } finally {
    await leaveAll(rooms)
  }
})

'use strict'
// A room member whose process is killed (SIGKILL) in the middle of a
// transfer: the others drop it on their own (peer:leave, connection:closed;
// the killed process tells no one and the broker knows nothing), the transfer
// to it fails with ERR_PEER_CLOSED, and the rest of the room carries on: the
// other target gets every byte intact, and chat still flows.
const test = require('tape')
const path = require('path')
const crypto = require('crypto')
const { spawn } = require('child_process')
const { Readable } = require('stream')
const { PeerServer } = require('../dist/server')
const { WebSocketDriver } = require('../dist/room')
const { Room, LOOPBACK, allConnected, leaveAll } = require('./room-helpers')

const HOST = '127.0.0.1'
// Long enough that a peer busy on a loaded machine is not taken for dead (liveness).
const TIMEOUT = 10000
const TOTAL = 64 * 1024 * 1024
const KILL_AT = 8 * 1024 * 1024

function startServer () {
  return new Promise((resolve, reject) => {
    const instance = PeerServer({ port: 0, host: HOST }, server => {
      resolve({ port: server.address().port, close: () => new Promise(r => instance.close(() => r())) })
    })
    instance.once('error', reject)
  })
}

/** A deterministic stream of `total` bytes, and the SHA-256 it must arrive with. */
function payload (total) {
  const block = crypto.createHash('sha512')
  const pieces = []
  let made = 0
  let seed = Buffer.from('room-kill')
  while (made < total) {
    seed = crypto.createHash('sha512').update(seed).digest()
    const piece = Buffer.alloc(Math.min(64 * 1024, total - made))
    for (let i = 0; i < piece.length; i += seed.length) seed.copy(piece, i)
    pieces.push(piece)
    made += piece.length
  }
  for (const piece of pieces) block.update(piece)
  return { stream: () => Readable.from(pieces), sha256: crypto.createHash('sha256').update(Buffer.concat(pieces)).digest('hex') }
}

async function receiveAll (data) {
  if (data && typeof data.getReader === 'function') {
    const hash = crypto.createHash('sha256')
    const reader = data.getReader()
    let n = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { n, sha256: hash.digest('hex') }
      hash.update(value)
      n += value.byteLength
    }
  }
  const value = await data
  return { n: value.byteLength, sha256: crypto.createHash('sha256').update(value).digest('hex') }
}

function nextEvent (room, event, filter = () => true) {
  return new Promise(resolve => {
    const on = e => { if (filter(e)) { room.off(event, on); resolve(e) } }
    room.on(event, on)
  })
}

test('rooms: a member killed with SIGKILL mid-transfer leaves the others\' rooms; the rest carries on', async t => {
  const server = await startServer()
  const url = `ws://${HOST}:${server.port}/rooms`
  const id = `kill-${crypto.randomBytes(4).toString('hex')}`
  const drivers = [new WebSocketDriver({ url }), new WebSocketDriver({ url })]
  const [a, b] = drivers.map(driver => new Room({ id, driver, ...LOOPBACK, connectionTimeout: TIMEOUT }))
  await a.join({ name: 'a' })
  await b.join({ name: 'b' })

  const child = spawn(process.execPath, [path.join(__dirname, 'room', 'member.js'), url, id, String(TIMEOUT)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve(signal)))
  const childId = await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', chunk => {
      out += chunk
      const m = /joined (\S+)\n/.exec(out)
      if (m) resolve(m[1])
    })
    child.once('exit', () => reject(new Error('the member exited before joining')))
  })
  await Promise.all([allConnected(a, 2), allConnected(b, 2)])
  t.pass('a, b and the member in its own process are connected')

  const { stream, sha256 } = payload(TOTAL)
  // Read as a stream from inside the listener (a message not taken by then is read whole).
  const bGot = new Promise(resolve => b.once('channel:message', e => resolve(receiveAll(e.data))))
  const leaves = [a, b].map(room => ({
    leave: nextEvent(room, 'peer:leave', e => e.peer.id === childId),
    closed: nextEvent(room, 'connection:closed', e => e.peer.id === childId)
  }))
  const transfer = a.send(stream(), { label: 'files' })
  let killed = false
  for await (const p of transfer) {
    if (!killed && p.peer.id === childId && p.current >= KILL_AT) {
      killed = child.kill('SIGKILL')
      break
    }
  }
  t.ok(killed, `the member was killed once ${KILL_AT} bytes were on their way to it`)
  // Progress goes on for the target still there, to the end, after the other failed.
  const lastForB = (async () => {
    let last = 0
    try {
      for await (const p of transfer) if (p.peer.id !== childId) last = p.current
    } catch {}
    return last
  })()
  t.equal(await exited, 'SIGKILL', 'the member died of SIGKILL')

  const failure = await transfer.then(() => null, err => err)
  t.equal(failure && failure.code, 'ERR_PEER_CLOSED', 'the transfer fails with ERR_PEER_CLOSED')
  for (const [i, room] of [a, b].entries()) {
    const name = i === 0 ? 'a' : 'b'
    const { peer } = await leaves[i].leave
    await leaves[i].closed
    t.equal(peer.state, 'closed', `${name}: peer:leave and connection:closed for the member`)
    t.notOk(room.peers.has(childId), `${name}: the member is out of room.peers`)
  }

  const got = await bGot
  t.equal(got.n, TOTAL, 'the other target got every byte')
  t.equal(await lastForB, TOTAL, 'progress for b went on to the total after the member failed')
  const results = await transfer.results()
  t.deepEqual(results.map(r => [r.peer.id === childId ? 'member' : 'b', r.status, r.error && r.error.code]).sort(),
    [['b', 'received', undefined], ['member', 'failed', 'ERR_PEER_CLOSED']], 'results(): b received it, the member failed with ERR_PEER_CLOSED')
  t.equal(got.sha256, sha256, 'and they are intact (SHA-256)')

  const chat = nextEvent(b, 'channel:message')
  a.send('still here', { label: 'chat' })
  t.equal(await (await chat).data, 'still here', 'chat still flows between the others')
  t.equal(a.peers.size, 1, 'a has one peer left')

  await leaveAll([a, b])
  await Promise.all(drivers.map(d => d.close()))
  await server.close()
})

'use strict'
// duplex-peer/server defends itself: every refusal is a protocol ERROR (and,
// for abuse, a closed socket), never a crash; nobody sends as another id.
const test = require('tape')
const WebSocket = require('ws')
const net = require('net')
const { startServer, wsClient, registered } = require('./peerjs/helpers')

/** Expects an ERROR whose message matches `pattern`. */
async function expectError (t, client, pattern, what) {
  const message = await client.next()
  t.equal(message.type, 'ERROR', `${what}: ERROR`)
  t.match(message.payload && message.payload.msg, pattern, `${what}: "${message.payload && message.payload.msg}"`)
}

/** The server still serves: two fresh clients can talk. */
async function stillWorks (t, port) {
  const a = await registered(port, { id: 'check-a' })
  const b = await registered(port, { id: 'check-b' })
  a.send({ type: 'OFFER', dst: 'check-b', payload: { ok: 1 } })
  t.equal((await b.next()).payload.ok, 1, 'the server still relays')
  await Promise.all([a.close(), b.close()])
}

test('registration refusals: missing parameters, wrong key, invalid id or token, client cap', async t => {
  const server = await startServer({ concurrent_limit: 2 })
  const cases = [
    [{ query: 'key=peerjs&id=x' }, /No id, token, or key/, 'no token'],
    [{ query: '' }, /No id, token, or key/, 'no parameters'],
    [{ id: 'x', key: 'nope' }, /Invalid key/, 'wrong key'],
    [{ id: 'bad id!' }, /Invalid id/, 'id with bad characters'],
    [{ id: 'x'.repeat(500) }, /Invalid id/, 'id too long'],
    [{ id: '-leading' }, /Invalid id/, 'id starting with a separator'],
    [{ id: 'x', token: 't'.repeat(500) }, /Invalid token/, 'token too long'],
    [{ id: 'x', token: 'has space' }, /Invalid token/, 'token with a space']
  ]
  for (const [options, pattern, what] of cases) {
    const client = wsClient(server.port, options)
    await expectError(t, client, pattern, what)
    t.equal((await client.closed).code, 1008, `${what}: closed`)
  }
  const one = await registered(server.port, { id: 'one' })
  const two = await registered(server.port, { id: 'two' })
  const three = wsClient(server.port, { id: 'three' })
  await expectError(t, three, /concurrent user limit/, 'third client over a cap of two')
  await three.closed
  await Promise.all([one.close(), two.close()])
  t.deepEqual(server.instance.clients, [], 'nobody registered by the refusals')
  await stillWorks(t, server.port)
  await server.close()
})

test('malformed messages: ERROR each, the connection stays and nothing is relayed', async t => {
  const server = await startServer()
  const a = await registered(server.port, { id: 'sloppy' })
  const b = await registered(server.port, { id: 'victim' })
  const cases = [
    ['not json at all', /not JSON/, 'not JSON'],
    ['[1,2,3]', /not an object/, 'an array'],
    ['null', /not an object/, 'null'],
    [{ dst: 'victim' }, /not an object with a string type/, 'no type'],
    [{ type: 'OPEN', dst: 'victim' }, /unknown type/, 'a server-only type'],
    [{ type: 'ID-TAKEN', dst: 'victim' }, /unknown type/, 'ID-TAKEN from a client'],
    [{ type: 'SOMETHING', dst: 'victim' }, /unknown type/, 'an unknown type'],
    [{ type: 'OFFER', payload: {} }, /dst/, 'OFFER without dst'],
    [{ type: 'OFFER', dst: 42 }, /dst/, 'dst not a string'],
    [{ type: 'OFFER', dst: 'no such!id' }, /dst/, 'dst not a valid id'],
    [{ type: 'OFFER', dst: 'victim', src: 'victim' }, /src is not your id/, 'src of another id'],
    [{ type: 'EXPIRE', dst: 'victim', src: 'someone-else' }, /src is not your id/, 'forged EXPIRE']
  ]
  for (const [message, pattern, what] of cases) {
    a.send(message)
    await expectError(t, a, pattern, what)
  }
  a.ws.send(Buffer.from([0xff, 0x00, 0x13]))
  await expectError(t, a, /not JSON/, 'binary garbage')
  a.send({ type: 'OFFER', dst: 'victim', payload: { genuine: true } })
  const got = await b.next()
  t.deepEqual(got, { type: 'OFFER', src: 'sloppy', dst: 'victim', payload: { genuine: true } }, 'only the valid message reached the other client, from the real id')
  t.equal(b.inbox.length, 0, 'nothing else reached it')
  await Promise.all([a.close(), b.close()])
  await server.close()
})

test('a message above max_message_size: ERROR, socket closed with 1009, not relayed', async t => {
  const server = await startServer({ max_message_size: 1024 })
  const a = await registered(server.port, { id: 'big' })
  const b = await registered(server.port, { id: 'small' })
  a.send({ type: 'OFFER', dst: 'small', payload: 'x'.repeat(2000) })
  await expectError(t, a, /Message too large \(\d+ bytes, limit 1024\)/, 'oversized message')
  t.equal((await a.closed).code, 1009, 'closed: message too big')
  const huge = await registered(server.port, { id: 'huge' })
  huge.ws.send('x'.repeat(1024 * 1024))
  t.equal((await huge.closed).code, 1009, 'a frame far above the limit is cut off by the WebSocket layer (1009)')
  t.equal(b.inbox.length, 0, 'nothing was relayed')
  await b.close()
  await stillWorks(t, server.port)
  await server.close()
})

test('rate limit: a flood gets ERROR and a closed socket; others are unaffected', async t => {
  const server = await startServer({ rate_limit: 5, rate_burst: 10 })
  const flood = await registered(server.port, { id: 'flood' })
  const calm = await registered(server.port, { id: 'calm' })
  for (let i = 0; i < 50; i++) flood.send({ type: 'CANDIDATE', dst: 'calm', payload: { i } })
  await expectError(t, flood, /Rate limit exceeded/, 'flood')
  t.equal((await flood.closed).code, 1008, 'flooder closed')
  let relayed = 0
  while (calm.inbox.length) if (calm.inbox.shift().type === 'CANDIDATE') relayed++
  t.ok(relayed <= 10, `at most the burst was relayed (${relayed})`)
  calm.send({ type: 'HEARTBEAT' })
  await calm.close()
  await server.close()
})

test('held messages are bounded: per recipient and in all', async t => {
  const server = await startServer({ max_held_messages: 3, max_held_bytes: 4096 })
  const a = await registered(server.port, { id: 'hoarder' })
  for (let i = 0; i < 3; i++) a.send({ type: 'OFFER', dst: 'absent', payload: { i } })
  a.send({ type: 'OFFER', dst: 'absent', payload: { i: 3 } })
  await expectError(t, a, /Too many messages held.*absent/, 'fourth message for one absent peer')
  a.send({ type: 'OFFER', dst: 'absent2', payload: 'y'.repeat(3000) })
  a.send({ type: 'OFFER', dst: 'absent3', payload: 'y'.repeat(3000) })
  await expectError(t, a, /Too many messages held.*absent3/, 'over the byte budget')
  const late = wsClient(server.port, { id: 'absent' })
  t.equal((await late.next()).type, 'OPEN', 'the absent peer connects')
  const held = [await late.next(), await late.next(), await late.next()]
  t.deepEqual(held.map(m => m.payload.i), [0, 1, 2], 'and gets the three that were held')
  await Promise.all([a.close(), late.close()])
  await server.close()
})

test('odd connections: wrong upgrade path, half-open sockets, abrupt disconnects', async t => {
  const server = await startServer()
  const wrong = new WebSocket(`ws://127.0.0.1:${server.port}/elsewhere`)
  const status = await new Promise(resolve => {
    wrong.on('unexpected-response', (req, res) => resolve(res.statusCode))
    wrong.on('error', () => resolve('error'))
  })
  t.equal(status, 404, 'upgrade on another path: 404')

  // A raw socket sending half a handshake, then garbage, then vanishing.
  await new Promise(resolve => {
    const socket = net.connect(server.port, '127.0.0.1', () => {
      socket.write('GET /peerjs?key=peerjs&id=raw&token=t HTTP/1.1\r\nUpgrade: websocket\r\n')
      socket.write('\x00\x01\x02 garbage\r\n\r\n')
      setTimeout(() => { socket.destroy(); resolve() }, 50)
    })
    socket.on('error', resolve)
  })
  t.pass('a broken handshake does not take the server down')

  const abrupt = await registered(server.port, { id: 'abrupt' })
  abrupt.ws.terminate()
  await abrupt.closed
  const other = await registered(server.port, { id: 'caller' })
  other.send({ type: 'OFFER', dst: 'abrupt', payload: {} })
  other.send({ type: 'HEARTBEAT' })
  t.pass('sending to a client that vanished is handled')
  await other.close()
  await stillWorks(t, server.port)
  await server.close()
})

'use strict'
// duplex-peer/server speaks the PeerServer protocol of peer@1.0.2: HTTP API,
// registration, relaying, holding messages for peers not connected yet.
const test = require('tape')
const { startServer, wsClient, registered, get } = require('./peerjs/helpers')

test('HTTP: server info, fresh ids, discovery off by default, key checked, CORS', async t => {
  const server = await startServer()
  const info = await get(server.port, '/')
  t.equal(info.status, 200, 'GET / answers')
  t.equal((await info.json()).name, 'PeerJS Server', 'with the PeerServer description')

  const first = await get(server.port, '/peerjs/id?ts=1&version=1.5.5', { Origin: 'http://example.test' })
  t.equal(first.status, 200, 'GET /peerjs/id answers 200')
  t.equal(first.headers.get('access-control-allow-origin'), 'http://example.test', 'CORS allows the calling origin')
  const id1 = await first.text()
  const id2 = await (await get(server.port, '/peerjs/id')).text()
  t.match(id1, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'the id is a UUID')
  t.notEqual(id1, id2, 'ids are fresh')

  t.equal((await get(server.port, '/wrongkey/id')).status, 401, 'a wrong key is refused')
  t.equal((await get(server.port, '/peerjs/peers')).status, 401, 'listing peers needs allow_discovery')
  t.equal((await get(server.port, '/nothing/here/at/all')).status, 404, 'other paths: 404')

  const preflight = await fetch(`http://127.0.0.1:${server.port}/peerjs/id`, {
    method: 'OPTIONS', headers: { Origin: 'http://example.test', 'Access-Control-Request-Method': 'GET' }
  })
  t.equal(preflight.status, 204, 'CORS preflight answered')
  const post = await fetch(`http://127.0.0.1:${server.port}/peerjs/id`, { method: 'POST' })
  t.equal(post.status, 405, 'POST refused')
  await server.close()
})

test('HTTP: discovery lists connected ids; path and key options are honoured', async t => {
  const server = await startServer({ allow_discovery: true, path: '/myapp', key: 'k1' })
  t.equal((await get(server.port, '/peerjs/id')).status, 404, 'nothing outside the path')
  t.equal((await get(server.port, '/myapp/peerjs/id')).status, 401, 'the default key is not this server\'s')
  t.equal((await get(server.port, '/myapp/k1/id')).status, 200, 'ids under {path}/{key}/id')
  t.deepEqual(await (await get(server.port, '/myapp/k1/peers')).json(), [], 'nobody connected')
  const a = await registered(server.port, { id: 'alpha', key: 'k1', path: '/myapp' })
  const b = await registered(server.port, { id: 'beta', key: 'k1', path: '/myapp' })
  t.deepEqual((await (await get(server.port, '/myapp/k1/peers')).json()).sort(), ['alpha', 'beta'], 'both listed')
  await a.close()
  await b.close()
  await server.close()
})

test('WebSocket: OPEN, then OFFER/ANSWER/CANDIDATE relayed with src set by the server', async t => {
  const server = await startServer()
  const events = []
  server.instance.on('connection', c => events.push(`connection ${c.getId()}`))
  server.instance.on('disconnect', c => events.push(`disconnect ${c.getId()}`))
  const a = await registered(server.port, { id: 'a' })
  const b = await registered(server.port, { id: 'b' })
  t.pass('both got OPEN')

  const offer = { type: 'OFFER', dst: 'b', payload: { sdp: { type: 'offer', sdp: 'v=0' }, type: 'data', connectionId: 'dc_1', label: 'x', serialization: 'binary', reliable: true, metadata: { m: 1 } } }
  a.send(offer)
  t.deepEqual(await b.next(), { ...offer, src: 'a' }, 'OFFER arrives whole, with src')
  b.send({ type: 'ANSWER', dst: 'a', payload: { sdp: { type: 'answer', sdp: 'v=0' }, type: 'data', connectionId: 'dc_1' } })
  t.equal((await a.next()).src, 'b', 'ANSWER relayed')
  a.send({ type: 'CANDIDATE', src: 'a', dst: 'b', payload: { candidate: { candidate: 'candidate:1' }, type: 'data', connectionId: 'dc_1' } })
  const candidate = await b.next()
  t.equal(candidate.type, 'CANDIDATE', 'CANDIDATE relayed (a src equal to the own id is fine)')
  t.equal(candidate.payload.connectionId, 'dc_1', 'payload untouched')

  a.send({ type: 'HEARTBEAT' })
  a.send({ type: 'LEAVE', dst: 'b' })
  t.deepEqual(await b.next(), { type: 'LEAVE', src: 'a', dst: 'b' }, 'LEAVE relayed (and HEARTBEAT not)')

  const gone = new Promise(resolve => server.instance.on('disconnect', () => { if (events.length === 4) resolve() }))
  await a.close()
  await b.close()
  await gone
  t.deepEqual(events, ['connection a', 'connection b', 'disconnect a', 'disconnect b'], 'connection and disconnect events')
  await server.close()
})

test('ID-TAKEN for an id in use with another token; the same token takes over', async t => {
  const server = await startServer()
  const a = await registered(server.port, { id: 'same', token: 't1' })
  const intruder = wsClient(server.port, { id: 'same', token: 't2' })
  t.deepEqual(await intruder.next(), { type: 'ID-TAKEN', payload: { msg: 'ID is taken' } }, 'ID-TAKEN')
  t.equal((await intruder.closed).code, 1008, 'and its socket is closed')

  const again = await registered(server.port, { id: 'same', token: 't1' })
  t.pass('the owner\'s token registers again (OPEN)')
  t.equal((await a.closed).code, 1000, 'the old socket is closed')
  const other = await registered(server.port, { id: 'other' })
  other.send({ type: 'OFFER', dst: 'same', payload: { n: 1 } })
  t.equal((await again.next()).payload.n, 1, 'messages go to the new socket')
  await again.close()
  await other.close()
  await server.close()
})

test('a message for a peer not connected yet is held, then delivered in order', async t => {
  const server = await startServer()
  const a = await registered(server.port, { id: 'early' })
  a.send({ type: 'OFFER', dst: 'late', payload: { n: 1 } })
  a.send({ type: 'CANDIDATE', dst: 'late', payload: { n: 2 } })
  a.send({ type: 'LEAVE', dst: 'late' })
  a.send({ type: 'HEARTBEAT' })
  // A round trip through the server: the messages above have been handled.
  const probe = await registered(server.port, { id: 'probe' })
  a.send({ type: 'OFFER', dst: 'probe' })
  await probe.next()
  const late = wsClient(server.port, { id: 'late' })
  t.equal((await late.next()).type, 'OPEN', 'OPEN first')
  t.deepEqual(await late.next(), { type: 'OFFER', src: 'early', dst: 'late', payload: { n: 1 } }, 'then the held OFFER')
  t.deepEqual(await late.next(), { type: 'CANDIDATE', src: 'early', dst: 'late', payload: { n: 2 } }, 'then the CANDIDATE (LEAVE is not held)')
  await Promise.all([a.close(), late.close(), probe.close()])
  await server.close()
})

test('held messages expire: the sender gets one EXPIRE per recipient (expire_timeout shortened)', async t => {
  const server = await startServer({ expire_timeout: 200 })
  const a = await registered(server.port, { id: 'sender' })
  a.send({ type: 'OFFER', dst: 'ghost', payload: {} })
  a.send({ type: 'CANDIDATE', dst: 'ghost', payload: {} })
  t.deepEqual(await a.next(), { type: 'EXPIRE', src: 'ghost', dst: 'sender' }, 'EXPIRE, from the absent peer')
  const late = wsClient(server.port, { id: 'ghost' })
  t.equal((await late.next()).type, 'OPEN', 'the peer connecting later gets OPEN ...')
  late.send({ type: 'OFFER', dst: 'sender', payload: { ping: true } })
  t.equal((await a.next()).payload.ping, true, '... and no stale messages (it talks normally)')
  t.equal(late.inbox.length, 0, 'nothing else was delivered to it')
  t.equal(a.inbox.length, 0, 'exactly one EXPIRE')
  await Promise.all([a.close(), late.close()])
  await server.close()
})

test('held messages expire after 5 seconds by default', async t => {
  const server = await startServer()
  t.equal(server.instance.options.expire_timeout, 5000, 'default expire_timeout is 5000 ms')
  const a = await registered(server.port, { id: 'waiting' })
  const sent = Date.now()
  a.send({ type: 'OFFER', dst: 'nobody', payload: {} })
  const expire = await a.next()
  const waited = Date.now() - sent
  t.equal(expire.type, 'EXPIRE', 'EXPIRE arrives')
  t.ok(waited >= 4900, `not before 5 s (after ${waited} ms)`)
  await a.close()
  await server.close()
})

test('server events: message reports what clients send', async t => {
  const server = await startServer()
  const seen = []
  server.instance.on('message', (client, message) => seen.push(`${client.getId()}:${message.type}`))
  const a = await registered(server.port, { id: 'talker' })
  const b = await registered(server.port, { id: 'listener' })
  a.send({ type: 'HEARTBEAT' })
  a.send({ type: 'OFFER', dst: 'listener', payload: {} })
  await b.next()
  t.deepEqual(seen, ['talker:HEARTBEAT', 'talker:OFFER'], 'HEARTBEAT and OFFER reported')
  await Promise.all([a.close(), b.close()])
  await server.close()
})

test('a client without heartbeats is dropped after alive_timeout', async t => {
  const server = await startServer({ alive_timeout: 300 })
  const quiet = await registered(server.port, { id: 'quiet' })
  const error = await quiet.next()
  t.equal(error.type, 'ERROR', 'told why')
  t.equal((await quiet.closed).code, 1001, 'then closed')
  t.deepEqual(server.instance.clients, [], 'and forgotten')
  await server.close()
})

test('LEAVE without dst: the client leaves', async t => {
  const server = await startServer()
  const a = await registered(server.port, { id: 'leaver' })
  a.send({ type: 'LEAVE' })
  t.equal((await a.closed).code, 1000, 'socket closed')
  t.deepEqual(server.instance.clients, [], 'client removed')
  await server.close()
})

test('close() closes client sockets and the HTTP server', async t => {
  const server = await startServer()
  const a = await registered(server.port, { id: 'stays' })
  await server.close()
  t.equal((await a.closed).code, 1001, 'clients told the server is going away')
  await fetch(`http://127.0.0.1:${server.port}/`).then(() => t.fail('still listening'), () => t.pass('no longer listening'))
})

test('attachPeerServer: mounted on an application\'s HTTP server, other requests left alone', async t => {
  const http = require('http')
  const { attachPeerServer } = require('../dist/server.js')
  const app = http.createServer((req, res) => {
    if (req.url === '/hello') res.end('app')
  })
  const signaling = attachPeerServer(app, { path: '/signal' })
  await new Promise(resolve => app.listen(0, '127.0.0.1', resolve))
  const port = app.address().port
  t.equal(await (await get(port, '/hello')).text(), 'app', 'application route works')
  t.equal((await get(port, '/signal/peerjs/id')).status, 200, 'PeerServer API under its path')
  const a = await registered(port, { id: 'mounted', path: '/signal' })
  t.pass('WebSocket under {path}/peerjs')
  await new Promise(resolve => signaling.close(resolve))
  await a.closed
  await new Promise(resolve => app.close(resolve))
})

test('bad options are refused when the server is made', t => {
  const { PeerServer } = require('../dist/server.js')
  t.throws(() => PeerServer({ port: -1 }), /port/, 'negative port')
  t.throws(() => PeerServer({ key: '' }), /key/, 'empty key')
  t.throws(() => PeerServer({ expire_timeout: 0 }), /expire_timeout/, 'zero expire_timeout')
  t.throws(() => PeerServer({ path: 5 }), /path/, 'path not a string')
  t.end()
})

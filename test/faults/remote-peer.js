'use strict'
// A peer in its own process, signaling over IPC with the parent test.
// It receives bytes and reports progress; the test kills it with SIGKILL.
const Peer = require('../..')
const peer = new Peer({ config: { iceServers: [] }, initiator: process.argv[2] === 'initiator' })
peer.on('signal', data => process.send({ signal: data }))
process.on('message', msg => { if (msg.signal) peer.signal(msg.signal) })
let received = 0
peer.on('connect', () => process.send({ connected: true }))
peer.on('data', chunk => {
  received += chunk.length
  if (received >= 1024 * 1024) { process.send({ received }); received = -Infinity }
})
peer.on('error', err => process.send({ error: err.code }))

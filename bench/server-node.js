'use strict'
// One signaling server for bench/server.js, in a process of its own so that
// its memory is its own: `peer` 1.0.2's PeerServer, or ours (optionally a
// cluster node on Redis). argv[2]: 'peer' or 'ours'; argv[3]: options as JSON.
// Sends { port } once it listens; answers 'rss' with { rss } (after a GC).
const impl = process.argv[2]
const options = JSON.parse(process.argv[3] || '{}')
const { PeerServer } = impl === 'peer' ? require('peer') : require('../dist/server.js')
const server = PeerServer({ port: 0, host: '127.0.0.1', ...options }, http => {
  process.send({ port: http.address().port })
})
process.on('message', message => {
  if (message === 'rss') {
    if (global.gc) global.gc()
    process.send({ rss: process.memoryUsage().rss })
  }
  if (message === 'close') {
    if (typeof server.close === 'function') server.close(() => process.exit(0))
    else process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))

'use strict'
// Runs the `peer` package's PeerServer (peer@1.0.2) in its own process: its
// timers never let a process exit, so tests fork this and kill it when done.
// Options come as JSON in argv[2]; the port is sent to the parent.
const { PeerServer } = require('peer')
const options = JSON.parse(process.argv[2] || '{}')
PeerServer({ port: 0, host: '127.0.0.1', ...options }, server => {
  process.send({ port: server.address().port })
})
process.on('disconnect', () => process.exit(0))

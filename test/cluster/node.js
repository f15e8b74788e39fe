'use strict'
// One node of a test cluster, in a child process (so that a test can
// SIGKILL it): a PeerServer on a free loopback port with the options given
// as JSON in argv[2]. Sends { port } over IPC once it listens; stops on
// 'close' over IPC (a clean stop) or on SIGTERM.
const { PeerServer } = require('../../dist/server.js')

const options = JSON.parse(process.argv[2] || '{}')
const server = PeerServer({ port: 0, host: '127.0.0.1', ...options }, http => {
  process.send({ port: http.address().port })
})
server.on('error', err => {
  process.stderr.write(`node error: ${err.stack || err}\n`)
  process.exit(1)
})
const stop = () => server.close(() => process.exit(0))
process.on('message', message => { if (message === 'close') stop() })
process.on('SIGTERM', stop)
process.on('disconnect', stop)

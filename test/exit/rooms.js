'use strict'
// Natural-exit fixture for test/room-exit.test.js: N rooms in one process
// (MemoryDriver) join, connect in a mesh, send a message and a 1 MiB
// transfer to everyone, then all leave; Node must then exit by itself.
//
//   node test/exit/rooms.js N
//
// Prints nothing; fails with status 9 if anything fails.
const { Room, MemoryDriver, MemoryHub } = require('../../dist/room')

const n = Number(process.argv[2]) || 3

async function main () {
  const hub = new MemoryHub()
  const rooms = Array.from({ length: n }, () => new Room({ id: 'exit', driver: new MemoryDriver(hub), config: { iceServers: [] }, connectionTimeout: 20000 }))
  const connected = rooms.map(room => new Promise((resolve, reject) => {
    const check = () => { if (room.peers.size === n - 1 && [...room.peers.values()].every(p => p.state === 'connected')) resolve() }
    room.on('connection:connected', check)
    room.on('connection:failed', ({ error }) => reject(error))
  }))
  await Promise.all(rooms.map(room => room.join()))
  await Promise.all(connected)
  const received = rooms.map(room => new Promise(resolve => {
    let count = 0
    room.on('channel:message', async ({ data }) => {
      await data
      if (++count === 2 * (n - 1)) resolve()
    })
  }))
  await Promise.all(rooms.map(room => Promise.all([room.send('hello'), room.send(new Uint8Array(1024 * 1024))])))
  await Promise.all(received)
  await Promise.all(rooms.map(room => room.leave()))
}

main().catch(err => {
  process.stderr.write(`rooms fixture failed: ${err.stack}\n`)
  process.exit(9)
})

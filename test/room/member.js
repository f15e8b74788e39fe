'use strict'
// A room member in a process of its own, for tests that kill it:
//   node test/room/member.js WS_URL ROOM_ID CONNECTION_TIMEOUT
// Joins through a WebSocketDriver, prints `joined <id>` on stdout, reads
// whatever is sent to it, and never leaves by itself.
const { Room, WebSocketDriver } = require('../../dist/room')

const [url, id, timeout] = process.argv.slice(2)

async function drain (data) {
  if (data && typeof data.getReader === 'function') {
    const reader = data.getReader()
    for (;;) if ((await reader.read()).done) return
  }
  await data
}

async function main () {
  const room = new Room({ id, driver: new WebSocketDriver({ url }), config: { iceServers: [] }, connectionTimeout: Number(timeout) })
  room.on('channel:message', ({ data }) => { drain(data).catch(() => {}) })
  const me = await room.join({ name: 'member' })
  process.stdout.write(`joined ${me.id}\n`)
}

main().catch(err => {
  process.stderr.write(`member failed: ${err.stack}\n`)
  process.exit(3)
})

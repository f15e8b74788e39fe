'use strict'
// Helpers for the room security tests: a driver that taps (and may rewrite)
// everything published, and a fake member that speaks the handshake but
// never makes a connection.
const { MemoryDriver } = require('../dist/room')
const { Handshake } = require('../dist/lib/room/handshake')
const { roomTopic, peerTopic } = require('../dist/lib/room/protocol')

/**
 * A MemoryDriver that records every message it publishes in `log` as
 * `{ topic, bytes }`, after `rewrite(topic, bytes)` (if given) had its say:
 * it returns the bytes to publish, or null to drop them.
 */
class TapDriver extends MemoryDriver {
  constructor (hub, log, rewrite) {
    super(hub)
    this.log = log
    this.rewrite = rewrite
  }

  async publish (topic, bytes) {
    const out = this.rewrite ? await this.rewrite(topic, bytes) : bytes
    if (!out) return
    this.log.push({ topic, bytes: Uint8Array.from(out) })
    return super.publish(topic, out)
  }
}

/**
 * A member of room `roomId` on `driver` that passes the handshake (and
 * records whom it admitted) but never connects: what it is sent after the
 * handshake goes unanswered.
 */
async function fakeMember (driver, roomId, id, options = {}) {
  const topic = await roomTopic(roomId)
  const own = await peerTopic(topic, id)
  const admitted = []
  let chain = Promise.resolve()
  const handshake = new Handshake({ roomId, localId: id, maxSessions: 16, ...options }, {
    publish: (t, make) => {
      const done = chain.then(async () => {
        const name = await t
        const bytes = await make()
        if (bytes) await driver.publish(name, bytes)
      })
      chain = done.catch(() => {})
      return done
    },
    topicOf: other => peerTopic(topic, other),
    admit: (peer, metadata, session) => admitted.push({ peer, metadata, session }),
    signal: () => {},
    leave: () => {},
    localMetadata: () => options.metadata ?? null,
    listening: () => true,
    fail: () => {},
    debug: () => {}
  })
  await handshake.start(topic, own)
  await driver.subscribe(own, bytes => { handshake.receive(own, bytes) })
  await driver.subscribe(topic, bytes => { handshake.receive(topic, bytes) })
  return { handshake, admitted, topic, own, announce: () => handshake.announce() }
}

/** Resolves once `hub` has published nothing for three windows of 250 ms in a row. */
async function settled (hub) {
  let stable = 0
  let last = hub.published
  while (stable < 3) {
    await new Promise(resolve => setTimeout(resolve, 250))
    stable = hub.published === last ? stable + 1 : 0
    last = hub.published
  }
}

module.exports = { TapDriver, fakeMember, settled }

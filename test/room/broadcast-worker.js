'use strict'
// A BroadcastChannelDriver in a Node worker thread, for
// test/room-broadcast.test.js. @roamhq/wrtc can serve one thread of a
// process only, so the threads exchange what a room's signaling would (byte
// messages on a topic), not WebRTC connections: chat lines, and a stream of
// chunks whose SHA-256 each receiver checks.
//
// A message on the topic: [kind][name length][name][payload], kind 0 = text,
// 1 = a chunk of a transfer, 2 = the end of the transfer.
const crypto = require('crypto')
const { parentPort, workerData } = require('worker_threads')
const { BroadcastChannelDriver } = require('../../dist/room')
const { patternBytes } = require('../helpers')

const TOPIC = 'room'
const CHUNK = 60 * 1024

/** Encodes one message of `name`. */
function encode (kind, name, payload) {
  const who = Buffer.from(name)
  return Buffer.concat([Buffer.from([kind, who.length]), who, payload])
}

/** A member: `driver` on `TOPIC`, reporting through `report(event)`. */
async function member (name, prefix, report) {
  const driver = new BroadcastChannelDriver({ prefix })
  const incoming = new Map()
  await driver.subscribe(TOPIC, bytes => {
    const kind = bytes[0]
    const from = Buffer.from(bytes.subarray(2, 2 + bytes[1])).toString()
    const payload = bytes.subarray(2 + bytes[1])
    if (from === name) return
    if (kind === 0) return report({ type: 'message', to: name, from, text: Buffer.from(payload).toString() })
    let transfer = incoming.get(from)
    if (!transfer) incoming.set(from, transfer = { hash: crypto.createHash('sha256'), length: 0 })
    if (kind === 1) {
      transfer.hash.update(payload)
      transfer.length += payload.length
    } else {
      incoming.delete(from)
      report({ type: 'message', to: name, from, bytes: { length: transfer.length, sha256: transfer.hash.digest('hex') } })
    }
  })
  return {
    driver,
    chat: text => driver.publish(TOPIC, encode(0, name, Buffer.from(text))),
    async send (size, seed) {
      const bytes = patternBytes(size, seed)
      for (let offset = 0; offset < size; offset += CHUNK) await driver.publish(TOPIC, encode(1, name, bytes.subarray(offset, offset + CHUNK)))
      await driver.publish(TOPIC, encode(2, name, Buffer.alloc(0)))
      return crypto.createHash('sha256').update(bytes).digest('hex')
    }
  }
}

module.exports = { member }

if (parentPort && workerData) {
  const { name, prefix } = workerData
  const post = message => parentPort.postMessage(message)
  member(name, prefix, post).then(self => {
    parentPort.on('message', async command => {
      if (command.type === 'chat') await self.chat(command.text)
      else if (command.type === 'send') post({ type: 'sent', sha256: await self.send(command.size, command.seed) })
      else if (command.type === 'close') {
        await self.driver.close()
        parentPort.close()
      }
    })
    post({ type: 'ready' })
  })
}

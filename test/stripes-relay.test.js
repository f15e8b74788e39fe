'use strict'
// Striped streams over a long, lossy path (lib/stripes/): every connection of
// the pair goes through its own UDP relay (test/faults/links.js) with 25 ms
// one-way delay and 1 % loss. 64 MiB arrives intact and in order over 4
// stripes, and still does when one extra stripe's relay stops forwarding
// mid-transfer.
const crypto = require('crypto')
const tape = require('tape')
const { patternBytes, sha256 } = require('./helpers')
const { stripesReport, striped, until, linkedPair } = require('./stripes-helpers')

const test = (name, fn) => tape(name, { timeout: 600e3 }, fn)
const LINK = { delay: 25, loss: 0.01 }
const SIZE = 64 * 1024 * 1024

/** Sends `data` from a to b; resolves with what b received (hash, length) and a's and b's events. */
function transfer (a, b, data, { onProgress } = {}) {
  const hash = crypto.createHash('sha256')
  let got = 0
  const events = []
  for (const [name, peer] of [['a', a], ['b', b]]) {
    peer.on('close', () => events.push(`${name}:close@${got}`))
    peer.on('error', err => events.push(`${name}:error:${err.code}`))
  }
  b.on('data', chunk => {
    hash.update(chunk)
    got += chunk.length
    if (onProgress) onProgress(got)
  })
  const ended = new Promise(resolve => b.once('end', resolve))
  a.end(data)
  return ended.then(() => ({ got, digest: hash.digest('hex'), events }))
}

test('64 MiB over 4 stripes through 25 ms, 1 % loss relays: intact, in order', async t => {
  const { a, b, links } = await linkedPair(LINK, { stripes: 4 })
  const report = await striped(a, 4)
  t.deepEqual(report.open, [0, 1, 2, 3], 'the initiator uses 4 stripes')
  t.equal(report.agreed, 4, 'both sides agreed on 4')
  t.deepEqual((await striped(b, 4)).open, [0, 1, 2, 3], 'the other side too')
  t.equal(links.list.length, 4, 'one relay per connection: the peer\'s own and 3 extra')
  const data = patternBytes(SIZE, 15)
  const result = await transfer(a, b, data)
  t.equal(result.got, SIZE, 'every byte arrived')
  t.equal(result.digest, sha256(data), 'SHA-256 matches: intact and in order')
  const relays = await links.all()
  t.ok(relays.every(r => r.forwarded > 1000), `every relay carried traffic (${relays.map(r => r.forwarded).join(', ')} packets)`)
  t.ok(relays.every(r => r.dropped > 0), `every relay lost packets (${relays.map(r => r.dropped).join(', ')})`)
  await until(() => a.destroyed && b.destroyed)
  t.deepEqual(result.events.filter(e => e.includes('error')), [], 'no error on either side')
  await links.close()
})

test('64 MiB over 4 stripes with one extra stripe cut mid-transfer: intact, no hang, no close before the end', async t => {
  const { a, b, links } = await linkedPair(LINK, { stripes: 4 })
  await striped(a, 4)
  await striped(b, 4)
  const relays = await links.all()
  const data = patternBytes(SIZE, 16)
  let cutAt = null
  const result = await transfer(a, b, data, {
    onProgress (got) {
      if (cutAt === null && got >= SIZE / 4) {
        cutAt = got
        relays[2].down = true // the relay of stripe 2: nothing passes either way from now on
      }
    }
  })
  t.ok(cutAt !== null, `stripe 2 was cut after ${cutAt} bytes`)
  t.equal(result.got, SIZE, 'every byte arrived')
  t.equal(result.digest, sha256(data), 'SHA-256 matches: the cut stripe\'s frames were sent again on the others')
  // As with one connection, each side closes once the transfer is over (simple-peer's order: close, then end).
  const early = result.events.filter(e => /:close@/.test(e) && Number(e.split('@')[1]) < SIZE)
  t.deepEqual(early, [], `no close before every byte arrived (${result.events.join(', ')})`)
  t.ok(relays[2].dropped > 0, `the cut relay dropped ${relays[2].dropped} packets`)
  await until(() => a.destroyed && b.destroyed)
  t.deepEqual(result.events.filter(e => e.includes('error')), [], 'no error on either side')
  await links.close()
})

test('the stripes report follows a cut: the cut stripe is benched, then leaves; the others stay', async t => {
  const { a, b, links } = await linkedPair({ delay: 5 }, { stripes: 3 })
  await striped(a, 3)
  await striped(b, 3)
  const relays = await links.all()
  relays[1].down = true // stripe 1
  // Data flows on the others while stripe 1 is benched, then detected as failed
  // (acks stop, ICE disconnects); the stream is ended only after that.
  const data = patternBytes(8 * 1024 * 1024, 17)
  const hash = crypto.createHash('sha256')
  let got = 0
  b.on('data', chunk => { hash.update(chunk); got += chunk.length })
  const ended = new Promise(resolve => b.once('end', resolve))
  a.write(data)
  let report
  const poll = () => { stripesReport(a).then(r => { report = r }, () => {}) }
  // First benched (its frames overdue: sent again on the others), later dropped.
  await until(() => { poll(); return report && (report.benched.includes(1) || !report.open.includes(1)) }, 100)
  t.deepEqual(report.benched, [1], 'stripe 1 benched while still open')
  t.ok(report.hedged > 0, `its frames went again on the others (${report.hedged})`)
  await until(() => { poll(); return report && !report.open.includes(1) }, 200)
  t.deepEqual(report.open, [0, 2], 'stripe 1 dropped on the sending side')
  t.deepEqual(report.benched, [], 'and no longer benched')
  a.end()
  await ended
  t.equal(got, data.length, 'every byte arrived')
  t.equal(hash.digest('hex'), sha256(data), 'the transfer completed intact')
  await until(() => a.destroyed && b.destroyed)
  await links.close()
})

'use strict'
// Natural-exit fixture for test/exit.test.js: connects N duplex-peer pairs on
// loopback, sends a little data, destroys both peers of each pair and then
// leaves Node to exit by itself (nothing keeps the loop alive).
//
//   node test/exit/pairs.js N [options]
//     --keep          hold every closed RTCPeerConnection until exit (the
//                     application keeps references: they cannot be collected)
//     --exit-code C   set process.exitCode = C once the peers are closed
//     --exit C        call process.exit(C) 50 ms after the peers are closed
//     --listener C    an `exit` listener sets process.exitCode = C
//     --stripes N     peers with `stripes: N`: the late half is destroyed once
//                     all N stripes are open (extra connections included)
//
// Half of the pairs are destroyed as soon as they connect, right after a
// write (with @roamhq/wrtc, a connection closed that early is the one most
// likely to crash the process in its finalizer at exit); the other half once
// the data has arrived. Prints nothing; fails with status 9 if a pair fails.
const { parseArgs } = require('util')
const Peer = require('../..')

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    keep: { type: 'boolean' },
    'exit-code': { type: 'string' },
    exit: { type: 'string' },
    listener: { type: 'string' },
    stripes: { type: 'string' }
  }
})
const pairs = Number(positionals[0]) || 1
const config = { iceServers: [] }
const stripes = Number(values.stripes) || 1

/** Resolves once `peer` has all its stripes open (at once without stripes; after 15 s whatever the count). */
async function allStriped (peer) {
  const until = Date.now() + 15000
  while (stripes > 1 && !peer.destroyed && Date.now() < until) {
    const report = (await peer.getStats().catch(() => [])).find(r => r.type === 'stripes')
    if (report && report.open.length === stripes) return
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
/** With --keep: closed connections the application still references (global: reachable until exit). */
const held = globalThis.heldConnections = []

if (values.listener !== undefined) process.on('exit', () => { process.exitCode = Number(values.listener) })

function pair (i) {
  return new Promise((resolve, reject) => {
    const a = new Peer({ initiator: true, config, stripes })
    const b = new Peer({ config, stripes })
    if (values.keep) held.push(a._pc, b._pc)
    a.on('signal', s => b.signal(s))
    b.on('signal', s => a.signal(s))
    a.on('error', reject)
    b.on('error', reject)
    let closed = 0
    const onClose = () => { if (++closed === 2) resolve() }
    a.once('close', onClose)
    b.once('close', onClose)
    const early = i % 2 === 0
    a.on('connect', () => {
      a.write('hello')
      if (early) { a.destroy(); b.destroy() }
    })
    b.once('data', () => {
      if (!early) allStriped(a).then(() => allStriped(b)).then(() => { a.destroy(); b.destroy() })
    })
  })
}

Promise.all(Array.from({ length: pairs }, (_, i) => pair(i))).then(() => {
  if (values['exit-code'] !== undefined) process.exitCode = Number(values['exit-code'])
  if (values.exit !== undefined) setTimeout(() => process.exit(Number(values.exit)), 50)
}, err => {
  process.stderr.write(`pair failed: ${err && err.stack}\n`)
  process.exitCode = 9
})

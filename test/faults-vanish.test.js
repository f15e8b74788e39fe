'use strict'
// The remote peer's process is killed mid-transfer.
const test = require('tape')
const path = require('path')
const { fork } = require('child_process')
const { Peer, LOOPBACK, closed } = require('./helpers')

for (const role of ['initiator', 'non-initiator']) {
  test(`remote process killed with SIGKILL mid-transfer (local ${role}): close, coded error, writers released`, async t => {
    const child = fork(path.join(__dirname, 'faults', 'remote-peer.js'), [role === 'initiator' ? 'answerer' : 'initiator'])
    const local = new Peer({ ...LOOPBACK, initiator: role === 'initiator', disconnectTimeout: 1000 })
    local.on('signal', s => child.send({ signal: s }))
    const errors = []
    local.on('error', err => errors.push(err))
    let writes = 0
    let callbacks = 0
    child.on('message', m => {
      if (m.signal) local.signal(m.signal)
      if (m.received) child.kill('SIGKILL')
    })
    local.on('connect', () => {
      const chunk = Buffer.alloc(64 * 1024, 1)
      const pump = () => {
        while (!local.destroyed) {
          writes++
          if (!local.write(chunk, () => callbacks++)) {
            return local.once('drain', pump)
          }
        }
      }
      pump()
    })
    await closed(local)
    await new Promise(resolve => setImmediate(resolve))
    t.ok(errors.length <= 1, 'at most one error')
    if (errors.length) t.ok(['ERR_ICE_CONNECTION_FAILURE', 'ERR_CONNECTION_FAILURE'].includes(errors[0].code), `error code ${errors[0].code}`)
    t.equal(callbacks, writes, `every write callback was called (${writes} writes)`)
    t.ok(local.destroyed, 'destroyed')
    t.equal(child.signalCode, 'SIGKILL', 'the remote was killed')
  })
}

'use strict'
// destroy() at every stage of the lifecycle: one close each, nothing thrown, nothing after.
const test = require('tape')
const { pair, connected, closed, once } = require('./helpers')

/** Records every event of interest, and any emitted after close. */
function watch (peer) {
  const log = { closes: 0, errors: [], after: [] }
  let isClosed = false
  for (const event of ['signal', 'connect', 'data', 'error', 'negotiated', 'iceStateChange', 'signalingStateChange']) {
    peer.on(event, arg => {
      if (event === 'error') log.errors.push(arg)
      if (isClosed) log.after.push(event)
    })
  }
  peer.on('close', () => { log.closes++; isClosed = true })
  return log
}

async function settle () {
  // Give any stray event a chance to show up.
  await new Promise(resolve => setTimeout(resolve, 300))
}

function check (t, logs) {
  logs.forEach((log, i) => {
    t.equal(log.closes, 1, `peer ${i}: one close`)
    t.deepEqual(log.errors.map(e => e.code), [], `peer ${i}: no error`)
    t.deepEqual(log.after, [], `peer ${i}: no events after close`)
  })
}

const stages = {
  'before any signal': async (a, b) => { a.destroy(); b.destroy() },
  'mid-offer': async (a, b) => { await once(a, 'signal'); a.destroy(); b.destroy() },
  'mid-ICE': async (a, b) => { await once(b, 'signal'); a.destroy(); await once(a, 'close'); b.destroy() },
  'right after connect': async (a, b) => { await connected(a, b); b.destroy(); a.destroy() },
  'mid-renegotiation': async (a, b) => {
    await connected(a, b)
    b.negotiate()
    await new Promise(resolve => a.on('signal', s => s.type === 'offer' && resolve()))
    a.destroy(); b.destroy()
  },
  'during a transfer': async (a, b) => {
    await connected(a, b)
    const chunk = Buffer.alloc(64 * 1024)
    for (let i = 0; i < 100; i++) a.write(chunk, () => {})
    await once(b, 'data')
    b.destroy(); a.destroy()
  },
  'twice, on both': async (a, b) => { await connected(a, b); a.destroy(); a.destroy(); b.destroy(); b.destroy() }
}

for (const [stage, act] of Object.entries(stages)) {
  test(`destroy ${stage}`, async t => {
    const [a, b] = pair()
    const logs = [watch(a), watch(b)]
    await act(a, b)
    await closed(a, b)
    await settle()
    check(t, logs)
    t.equal(a._pc, null, 'connection released')
    t.doesNotThrow(() => { a.signal({ type: 'renegotiate', renegotiate: true }); b.signal('{}') }, 'signal() after destroy does not throw')
  })
}

test('a destroyed peer leaves its partner to close on its own', async t => {
  const [a, b] = pair()
  const logB = watch(b)
  await connected(a, b)
  a.destroy()
  await closed(b)
  await settle()
  t.equal(logB.closes, 1, 'partner closed once')
  t.deepEqual(logB.after, [], 'no events after')
})

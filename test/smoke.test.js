'use strict'
const test = require('tape')
const { pair, connected, closed, sha256 } = require('./helpers')

test('two peers connect and exchange data both ways', async t => {
  const [a, b] = pair()
  await connected(a, b)
  t.ok(a.connected && b.connected, 'both connected')
  const fromA = new Promise(resolve => b.once('data', resolve))
  const fromB = new Promise(resolve => a.once('data', resolve))
  a.write('hello from a')
  b.write(Buffer.from('hello from b'))
  t.equal(String(await fromA), 'hello from a')
  t.equal(String(await fromB), 'hello from b')
  a.destroy()
  await closed(a, b)
  t.ok(a.destroyed && b.destroyed, 'both destroyed')
})

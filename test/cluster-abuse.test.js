'use strict'
// The abuse tests of test/server-abuse.test.js, run again against a server
// that is a cluster node on Redis (every refusal an ERROR, never a crash;
// held-message caps, which are cluster-wide, behave the same). The file is
// loaded with a startServer that adds the redis option, then unloaded, so
// that it still runs on its own against the in-memory server.
const tape = require('tape')
// A hang (a broker or node that never answers) fails the test instead of holding up the run.
const test = (name, fn) => tape(name, { timeout: 180e3 }, fn)
const helpers = require('./peerjs/helpers')
const { startRedis } = require('./cluster/servers')

let redis = null
let onRedis = 0
test('cluster abuse: a Redis for the abuse tests of server-abuse.test.js', async t => {
  redis = await startRedis()
  t.pass(`redis-server on port ${redis.port}`)
})

const original = helpers.startServer
helpers.startServer = async (options = {}) => {
  // Each server starts on an empty Redis, as each in-memory server starts empty.
  const admin = require('redis').createClient({ url: redis.url })
  await admin.connect()
  await admin.flushAll()
  await admin.destroy()
  const server = await original({ ...options, redis: redis.url })
  if (server.instance.options.redis === redis.url) onRedis++
  return server
}
const file = require.resolve('./server-abuse.test.js')
delete require.cache[file]
try {
  require(file)
} finally {
  helpers.startServer = original
  delete require.cache[file]
}

test('cluster abuse: stop the Redis', async t => {
  t.ok(onRedis >= 6, `the abuse tests ran against ${onRedis} servers on Redis`)
  await redis.close()
})

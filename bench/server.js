'use strict'
/**
 * Signaling server benchmark: `npm run bench:server` (builds first), or
 * `node bench/server.js`. Not a test.
 *
 * K WebSocket clients (in this process) register with the server(s), pair up
 * (client 2i with 2i+1) and send each other OFFER/ANSWER/CANDIDATE messages
 * at a fixed total rate for a fixed time. Measured, for each server:
 * messages relayed per second, p50/p99 relay latency (from send to receipt,
 * both in this process), RSS per connected client (server RSS with the
 * clients connected minus before, after a GC; summed over the nodes of a
 * cluster), and an accounting: every message sent was delivered once, or
 * answered with EXPIRE (none expected: every recipient is connected), or
 * refused with an ERROR.
 *
 * Servers, in one invocation: `peer` 1.0.2 (one process), ours in memory (one
 * process), ours as 3 nodes on one Redis (a redis-server of its own; clients
 * spread over the nodes round-robin, so most pairs cross nodes).
 *
 * Environment (defaults in brackets):
 *   BENCH_SERVER_CLIENTS   clients K [2000]
 *   BENCH_SERVER_RATE      messages per second, all clients together [10000]
 *   BENCH_SERVER_SECONDS   timed seconds per server [10]
 *   BENCH_SERVER_WARMUP    seconds sent first, not timed [2]
 *   BENCH_SERVER_ONLY      which servers, comma-separated [peer,memory,cluster]
 *   BENCH_SERVER_RUNS      runs per server, interleaved; the table shows medians [3]
 */
const path = require('path')
const { fork } = require('child_process')
const WebSocket = require('ws')
const { startRedis } = require('../test/cluster/servers')

const K = Number(process.env.BENCH_SERVER_CLIENTS || 2000) & ~1
const RATE = Number(process.env.BENCH_SERVER_RATE || 10000)
const SECONDS = Number(process.env.BENCH_SERVER_SECONDS || 10)
const WARMUP = Number(process.env.BENCH_SERVER_WARMUP || 2)
const RUNS = Number(process.env.BENCH_SERVER_RUNS || 3)
const ONLY = (process.env.BENCH_SERVER_ONLY || 'peer,memory,cluster').split(',')
const TYPES = ['OFFER', 'ANSWER', 'CANDIDATE']
const log = (...args) => process.stderr.write(args.join(' ') + '\n')
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Starts a server process. Resolves with { port, rss(), close() }. */
function startServerProcess (impl, options) {
  const child = fork(path.join(__dirname, 'server-node.js'), [impl, JSON.stringify(options)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: ['--expose-gc']
  })
  const replies = []
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.on('message', message => {
      if (message.port) {
        resolve({
          port: message.port,
          rss () {
            return new Promise(resolve => { replies.push(resolve); child.send('rss') })
          },
          close () {
            return new Promise(resolve => {
              if (child.exitCode !== null) return resolve()
              child.once('exit', () => resolve())
              child.send('close')
              setTimeout(() => child.kill('SIGKILL'), 3000).unref()
            })
          }
        })
      } else if (message.rss) replies.shift()(message.rss)
    })
  })
}

/** Connects K clients (in batches), client i to ports[i % ports.length]. */
async function connectClients (ports, stats) {
  const clients = []
  for (let start = 0; start < K; start += 100) {
    const batch = []
    for (let i = start; i < Math.min(K, start + 100); i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${ports[i % ports.length]}/peerjs?key=peerjs&id=c${i}&token=t${i}`, { perMessageDeflate: false })
      ws.on('error', () => {})
      batch.push(new Promise((resolve, reject) => {
        ws.once('message', data => {
          const m = JSON.parse(String(data))
          if (m.type !== 'OPEN') return reject(new Error(`client ${i}: ${String(data)}`))
          ws.on('message', d => onMessage(d, stats))
          resolve(ws)
        })
        ws.once('close', () => reject(new Error(`client ${i} closed before OPEN`)))
      }))
    }
    clients.push(...await Promise.all(batch))
  }
  return clients
}

function onMessage (data, stats) {
  const now = performance.now()
  const m = JSON.parse(String(data))
  if (m.type === 'EXPIRE') { stats.expired++; return }
  if (m.type === 'ERROR') { stats.errors++; return }
  if (m.type === 'HEARTBEAT' || !m.payload) return
  const seq = m.payload.seq
  if (stats.seen[seq]) stats.duplicates++
  stats.seen[seq] = 1
  stats.delivered++
  if (m.payload.timed) {
    stats.latencies.push(now - m.payload.t)
    stats.timedDelivered++
  }
}

/** Sends at RATE messages/s for WARMUP + SECONDS; resolves with the figures. */
async function load (clients, stats) {
  const TICK = 10
  const perTick = RATE * TICK / 1000
  let carry = 0
  let next = 0
  let seq = 0
  const started = performance.now()
  const warmEnd = started + WARMUP * 1000
  const end = warmEnd + SECONDS * 1000
  let timedSent = 0
  let firstTimed = -1
  let lastTimed = -1
  await new Promise(resolve => {
    const timer = setInterval(() => {
      const now = performance.now()
      if (now >= end) { clearInterval(timer); return resolve() }
      // Catch up on ticks the event loop delayed: the offered rate stays fixed.
      const due = RATE * (now - started) / 1000 - seq
      carry = Math.max(0, due)
      const timed = now >= warmEnd
      for (let n = Math.floor(carry); n > 0; n--) {
        const from = next
        next = (next + 1) % K
        const ws = clients[from]
        if (ws.readyState !== WebSocket.OPEN) continue
        const s = seq++
        if (timed) { timedSent++; if (firstTimed < 0) firstTimed = s; lastTimed = s }
        ws.send(JSON.stringify({ type: TYPES[s % 3], dst: `c${from ^ 1}`, payload: { seq: s, t: performance.now(), timed, sdp: 'x'.repeat(200) } }))
      }
    }, TICK)
  })
  void perTick
  const sent = seq
  // Drain: wait until every message is accounted for, or 10 s.
  for (let i = 0; i < 100 && stats.delivered + stats.errors < sent; i++) await sleep(100)
  return { sent, timedSent, elapsed: SECONDS }
}

function percentile (sorted, p) {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

async function measure (name, servers, teardown) {
  log(`# ${name}: ${K} clients, ${RATE} messages/s for ${SECONDS} s (+${WARMUP} s warm-up)`)
  const before = (await Promise.all(servers.map(s => s.rss()))).reduce((a, b) => a + b, 0)
  const stats = { seen: new Uint8Array(RATE * (SECONDS + WARMUP + 5)), delivered: 0, timedDelivered: 0, duplicates: 0, expired: 0, errors: 0, latencies: [] }
  const clients = await connectClients(servers.map(s => s.port), stats)
  const after = (await Promise.all(servers.map(s => s.rss()))).reduce((a, b) => a + b, 0)
  const { sent } = await load(clients, stats)
  const latencies = stats.latencies.sort((a, b) => a - b)
  for (const ws of clients) ws.terminate()
  await teardown()
  const result = {
    name,
    relayedPerSecond: stats.timedDelivered / SECONDS,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    rssPerClient: (after - before) / K,
    sent,
    delivered: stats.delivered,
    expired: stats.expired,
    errors: stats.errors,
    duplicates: stats.duplicates,
    lost: sent - stats.delivered - stats.errors
  }
  log(`  ${JSON.stringify(result)}`)
  return result
}

/** The servers, each a function running one measurement. */
const SERVERS = {
  peer: async () => {
    const server = await startServerProcess('peer', { concurrent_limit: K + 10 })
    return measure('peer 1.0.2 (one process)', [server], () => server.close())
  },
  memory: async () => {
    const server = await startServerProcess('ours', { concurrent_limit: K + 10, rooms: false })
    return measure('duplex-peer/server, in memory (one process)', [server], () => server.close())
  },
  cluster: async () => {
    const redis = await startRedis()
    const nodes = []
    for (let i = 0; i < 3; i++) nodes.push(await startServerProcess('ours', { concurrent_limit: K + 10, rooms: false, redis: redis.url }))
    return measure('duplex-peer/server, 3 nodes on Redis', nodes, async () => {
      for (const node of nodes) await node.close()
      await redis.close()
    })
  }
}

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function main () {
  const names = Object.keys(SERVERS).filter(name => ONLY.includes(name))
  const runs = Object.fromEntries(names.map(name => [name, []]))
  for (let run = 0; run < RUNS; run++) {
    for (const name of names) runs[name].push(await SERVERS[name]())
  }
  const results = names.map(name => {
    const list = runs[name]
    const out = { name: list[0].name }
    for (const key of ['relayedPerSecond', 'p50', 'p99', 'rssPerClient']) out[key] = median(list.map(r => r[key]))
    for (const key of ['sent', 'delivered', 'expired', 'errors', 'duplicates', 'lost']) out[key] = list.reduce((n, r) => n + r[key], 0)
    return out
  })
  require('fs').writeFileSync(path.join(__dirname, 'server-results.json'), JSON.stringify({ K, RATE, SECONDS, WARMUP, RUNS, runs }, null, 2) + '\n')
  const f = (n, d = 1) => Number.isFinite(n) ? n.toFixed(d) : 'n/a'
  console.log(`${K} clients, ${RATE} messages/s offered for ${SECONDS} s, median of ${RUNS} interleaved runs (sent … duplicates: totals over the runs)`)
  console.log('')
  console.log(`| server | relayed msg/s | p50 latency | p99 latency | RSS per client | sent | delivered once | EXPIRE | ERROR | lost | duplicates |`)
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of results) {
    console.log(`| ${r.name} | ${f(r.relayedPerSecond, 0)} | ${f(r.p50, 2)} ms | ${f(r.p99, 2)} ms | ${f(r.rssPerClient / 1024, 1)} KiB | ${r.sent} | ${r.delivered - r.duplicates} | ${r.expired} | ${r.errors} | ${r.lost} | ${r.duplicates} |`)
  }
  if (results.length < 3) return
  const [peer, ours, cluster] = results
  console.log('')
  console.log(`| ratio | throughput | p50 | p99 | RSS per client |`)
  console.log('| --- | ---: | ---: | ---: | ---: |')
  const ratio = (a, b) => `${f(a / b, 2)}×`
  console.log(`| ours in memory / peer 1.0.2 | ${ratio(ours.relayedPerSecond, peer.relayedPerSecond)} | ${ratio(ours.p50, peer.p50)} | ${ratio(ours.p99, peer.p99)} | ${ratio(ours.rssPerClient, peer.rssPerClient)} |`)
  console.log(`| ours, 3 nodes on Redis / ours in memory | ${ratio(cluster.relayedPerSecond, ours.relayedPerSecond)} | ${ratio(cluster.p50, ours.p50)} | ${ratio(cluster.p99, ours.p99)} | ${ratio(cluster.rssPerClient, ours.rssPerClient)} |`)
}

main().catch(err => {
  console.error(err)
  process.exit(1)
})

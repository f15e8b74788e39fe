'use strict'
/**
 * Many pairs connected at once, in a process of their own so that memory
 * figures do not mix:
 *
 *   node bench/pairs.js ours|simple-peer [PAIRS]     (default 100)
 *
 * After loading everything and connecting (then destroying) one warm-up
 * pair, it records the baseline RSS, creates PAIRS pairs at once, and times
 * until every peer has emitted `connect`. With all of them connected it reads
 * RSS again (after a full GC): (RSS − baseline) / (2 × PAIRS) is the memory
 * per peer. Then it destroys them all and prints one line of JSON.
 *
 * ICE-TCP candidates are not passed on (BENCH_PAIRS_TCP=1 passes them): when
 * gathering is slow, as with 200 peers starting at once on 2 cores, libwebrtc
 * also gathers TCP candidates, and checks against hundreds of listening
 * sockets on one host can snowball into thousands of connection attempts,
 * the process's file descriptors run out and pairs fail, for either
 * implementation. UDP host candidates are what connects them either way.
 * BENCH_PEER_OPTS (JSON) adds options to every peer, as in throughput.js.
 */
const fs = require('fs')
const { streamPair, udpOnly, withTimeout, settle, sleep, MIB } = require('./common')

/** Normally all connect within a few seconds; see `fdLimitHit` for when they do not. */
const CONNECT_TIMEOUT = 30000

async function main () {
  const impl = process.argv[2] || 'ours'
  const count = Number(process.argv[3]) || 100
  if (impl !== 'ours' && impl !== 'simple-peer') throw new Error(`unknown implementation ${impl}`)

  const keepSignal = process.env.BENCH_PAIRS_TCP === '1' ? null : udpOnly
  const options = process.env.BENCH_PEER_OPTS ? JSON.parse(process.env.BENCH_PEER_OPTS) : {}
  const warm = streamPair(impl, options, { keepSignal })
  await withTimeout(warm.ready, CONNECT_TIMEOUT, 'warm-up pair did not connect')
  await sleep(300) // (see CLOSE_DELAY in index.js)
  await warm.close()
  await settle(200)
  const base = process.memoryUsage()

  let peak = base.rss
  let peakFds = openFds()
  let exhausted = false
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, process.memoryUsage().rss)
    } catch (err) {
      // Reading RSS needs a file descriptor; so does every socket wrtc opens.
      if (err.code === 'EMFILE') exhausted = true
    }
    const fds = openFds()
    if (fds < 0) exhausted = true
    peakFds = Math.max(peakFds, fds)
  }, 20)
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const pairs = []
  for (let i = 0; i < count; i++) pairs.push(streamPair(impl, options, { keepSignal }))
  // Each pair's time to connect, or its error; pairs still connecting at the
  // deadline count as failed.
  const outcomes = pairs.map(() => null)
  await new Promise(resolve => {
    let left = count
    const deadline = setTimeout(resolve, CONNECT_TIMEOUT)
    pairs.forEach((p, i) => p.ready.then(
      () => { outcomes[i] = { ms: Number(process.hrtime.bigint() - t0) / 1e6 } },
      err => { outcomes[i] = { error: String(err && err.message) } }
    ).then(() => {
      if (--left === 0) { clearTimeout(deadline); resolve() }
    }))
  })
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6
  const cpu = process.cpuUsage(cpu0)
  const times = outcomes.filter(o => o && o.ms !== undefined).map(o => o.ms).sort((x, y) => x - y)
  const failed = outcomes.filter(o => !o || o.error).map(o => (o ? o.error : `not connected within ${CONNECT_TIMEOUT} ms`))

  await settle(200)
  clearInterval(sampler)
  const all = await memoryUsage()
  peak = Math.max(peak, all.rss)
  const peers = 2 * count

  await Promise.all(pairs.map(p => p.close()))
  await settle(200)
  const after = await memoryUsage()

  return {
    impl,
    pairs: count,
    connected: times.length,
    failed: failed.length,
    // wrtc also gathers TCP candidates: with this many pairs at once their
    // connection attempts can use up the process's file descriptors.
    peakFds,
    fdLimitHit: exhausted,
    tcpCandidates: !keepSignal,
    errors: [...new Set(failed)].slice(0, 3),
    totalMs,
    // CPU time of the whole process (JS and wrtc's threads) while connecting.
    cpuMs: (cpu.user + cpu.system) / 1000,
    firstMs: times[0] ?? null,
    medianMs: times[times.length >> 1] ?? null,
    baseRssMiB: base.rss / MIB,
    connectedRssMiB: all.rss / MIB,
    peakRssMiB: peak / MIB,
    afterCloseRssMiB: after.rss / MIB,
    rssPerPeerKiB: (all.rss - base.rss) / peers / 1024,
    heapPerPeerKiB: (all.heapUsed - base.heapUsed) / peers / 1024
  }
}

/** Open file descriptors of this process (-1 if they cannot be counted). */
function openFds () {
  try {
    return fs.readdirSync('/proc/self/fd').length
  } catch {
    return -1
  }
}

/** `process.memoryUsage()`, retried while file descriptors run out. */
async function memoryUsage () {
  for (let i = 0; ; i++) {
    try {
      return process.memoryUsage()
    } catch (err) {
      if (err.code !== 'EMFILE' || i >= 100) throw err
      await sleep(100)
    }
  }
}

main().then(result => {
  process.stdout.write(JSON.stringify(result) + '\n')
}, err => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message) }) + '\n')
  process.exitCode = 1
}).finally(() => {
  // Everything is destroyed, so the process should exit by itself. If a native
  // handle kept it alive, say so rather than hang the bench (unref'd: this
  // timer alone does not hold the process open).
  setTimeout(() => {
    process.stderr.write('pairs.js: still running 10 s after closing every peer; exiting\n')
    process.exit(process.exitCode || 0)
  }, 10000).unref()
  // simple-peer 9 leaves a timer of a few seconds behind each destroyed peer:
  // the result is out, do not wait for it.
  if (process.argv[2] === 'simple-peer') process.exit(process.exitCode || 0)
})

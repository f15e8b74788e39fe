'use strict'
/**
 * Memory while a long transfer streams through one duplex-peer pair, in a
 * process of its own:
 *
 *   node bench/flat.js [MiB] [WRITE_SIZE]     (default 1024 MiB in 64 KiB writes)
 *
 * RSS is sampled every 100 ms from just before the first write until the
 * reader has every byte: start, peak and end are reported, with the heap
 * and throughput. The written chunks are slices of one 4 MiB pool, so the
 * writer itself allocates nothing: growth would be the peer's.
 */
const crypto = require('crypto')
const { streamPair, withTimeout, settle, MIB } = require('./common')

const SAMPLE_MS = 100
const STALL_TIMEOUT = 30000

async function main () {
  const total = Math.round((Number(process.argv[2]) || 1024) * MIB)
  const writeSize = Number(process.argv[3]) || 64 * 1024
  const pool = crypto.randomBytes(4 * MIB)

  const pair = streamPair('ours')
  await withTimeout(pair.ready, 30000, 'pair did not connect')
  const { a, b } = pair
  await settle(100)

  const samples = []
  const sample = () => {
    const m = process.memoryUsage()
    samples.push({ t: Date.now() - t0, rss: m.rss, heap: m.heapUsed, external: m.external })
  }
  const t0 = Date.now()
  sample()
  const sampler = setInterval(sample, SAMPLE_MS)

  const result = await new Promise((resolve, reject) => {
    let sent = 0
    let got = 0
    let offset = 0
    let last = 0
    let lastChange = Date.now()
    const watchdog = setInterval(() => {
      if (got !== last) { last = got; lastChange = Date.now() } else if (Date.now() - lastChange > STALL_TIMEOUT) {
        finish(new Error(`stalled at ${got} bytes`))
      }
    }, 1000)
    const finish = err => {
      clearInterval(watchdog)
      pair.onError = null
      if (err) reject(err)
      else resolve({ ms: Date.now() - t0, received: got })
    }
    pair.onError = finish
    b.on('data', chunk => {
      got += chunk.length
      if (got >= total) finish()
    })
    const pump = () => {
      while (sent < total) {
        if (offset + writeSize > pool.length) offset = 0
        const chunk = pool.subarray(offset, offset + writeSize)
        offset += writeSize
        sent += writeSize
        if (!a.write(chunk)) { a.once('drain', pump); return }
      }
    }
    pump()
  })
  sample()
  clearInterval(sampler)
  await pair.close()
  await settle(200) // see the end of index.js

  const peak = samples.reduce((m, s) => (s.rss > m.rss ? s : m), samples[0])
  const first = samples[0]
  const end = samples[samples.length - 1]
  // RSS in the second half of the transfer: flat means no trend here.
  const half = samples.filter(s => s.t >= end.t / 2)
  return {
    bytes: total,
    writeSize,
    received: result.received,
    ms: result.ms,
    mbps: total / 1e6 / (result.ms / 1000),
    samples: samples.length,
    startRssMiB: first.rss / MIB,
    peakRssMiB: peak.rss / MIB,
    peakAtMs: peak.t,
    endRssMiB: end.rss / MIB,
    secondHalfMinRssMiB: Math.min(...half.map(s => s.rss)) / MIB,
    secondHalfMaxRssMiB: Math.max(...half.map(s => s.rss)) / MIB,
    peakHeapMiB: Math.max(...samples.map(s => s.heap)) / MIB,
    peakExternalMiB: Math.max(...samples.map(s => s.external)) / MIB,
    // Every 10th sample, for a plot: [ms, RSS MiB].
    trace: samples.filter((_, i) => i % 10 === 0 || i === samples.length - 1).map(s => [s.t, +(s.rss / MIB).toFixed(1)])
  }
}

main().then(result => {
  process.stdout.write(JSON.stringify(result) + '\n')
}, err => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message) }) + '\n')
  process.exitCode = 1
}).finally(() => {
  // The pair is destroyed: the process should exit by itself (see pairs.js).
  setTimeout(() => {
    process.stderr.write('flat.js: still running 10 s after closing the pair; exiting\n')
    process.exit(process.exitCode || 0)
  }, 10000).unref()
})

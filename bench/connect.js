'use strict'
/**
 * Connection setup time of one pair, duplex-peer and simple-peer interleaved:
 *
 *   node bench/connect.js [N]      (default 20 of each)
 *
 * After one warm-up pair of each, N pairs of each are connected one at a
 * time: the clock runs from creating the two peers until both have emitted
 * `connect`. Each pair is destroyed before the next is created. Prints one
 * line of JSON: `{ ours: [ms...], 'simple-peer': [ms...], errors }`.
 */
const { streamPair, withTimeout, settle, sleep } = require('./common')

/**
 * Wait between `connect` and destroying the pair (ms). Destroying a
 * duplex-peer pair within a few ms of `connect`, while its control channel is
 * still opening, can later crash @roamhq/wrtc in a finalizer; that is not
 * what is measured here.
 */
const CLOSE_DELAY = 100
const IMPLS = ['ours', 'simple-peer']

async function once (impl) {
  const t0 = process.hrtime.bigint()
  const pair = streamPair(impl)
  try {
    await withTimeout(pair.ready, 30000, 'pair did not connect')
    return Number(process.hrtime.bigint() - t0) / 1e6
  } finally {
    await sleep(CLOSE_DELAY)
    await pair.close()
    await settle(20)
  }
}

async function main () {
  const n = Number(process.argv[2]) || 20
  const out = { ours: [], 'simple-peer': [], errors: [] }
  for (const impl of IMPLS) await once(impl) // warm-up
  for (let i = 0; i < n; i++) {
    for (const impl of i % 2 ? IMPLS.slice().reverse() : IMPLS) {
      try {
        out[impl].push(Math.round(await once(impl) * 100) / 100)
      } catch (err) {
        out.errors.push(`${impl}: ${err.message}`)
      }
    }
  }
  return out
}

main().then(async result => {
  process.stdout.write(JSON.stringify(result) + '\n')
  await settle(200) // (see the end of index.js)
  // simple-peer 9 leaves a timer of a few seconds behind each destroyed peer:
  // the results are out, do not wait for it.
  process.exit(0)
}, err => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message) }) + '\n')
  process.exit(1)
})

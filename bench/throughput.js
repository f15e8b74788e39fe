'use strict'
/**
 * One throughput run: a fresh pair, `total` bytes from `a` to `b`, then both
 * destroyed.
 *
 * - duplex-peer and simple-peer: the writer calls `write(chunk)` with chunks
 *   of `writeSize` bytes until it returns false, then waits for `drain`; the
 *   reader counts the bytes of its `data` events.
 * - raw: 64 KiB messages straight into the RTCDataChannel, paced on
 *   `bufferedAmount` (1 MiB high-water mark, polled every 5 ms, as
 *   @roamhq/wrtc does not fire `bufferedamountlow`). This is the ceiling.
 *
 * Warm-up: the writer first writes BENCH_WARMUP_MB MiB (default 4) and waits
 * until the reader has all of it; then the clock starts, the writer goes on
 * with the `total` timed bytes, and the clock stops when the reader has them.
 * A fresh SCTP association sometimes loses part of its first burst and then
 * sits out a retransmission timeout (0.3-1 s, with any sender, raw wrtc
 * included): that start-up hiccup is not what this measures. (The reader must
 * have the warm-up before the clock starts, not merely the writer have written
 * it: simple-peer's writer can keep the event loop busy for seconds, and the
 * reader gets nothing meanwhile.)
 * With `verify`, every chunk is fresh random data and both ends hash all they
 * see, warm-up included (SHA-256); this costs CPU, so timed runs leave it off.
 *
 * bench/index.js runs each measurement as its own process:
 *   node bench/throughput.js ours|simple-peer|raw WRITE_SIZE [MiB] [--verify]
 * which prints one line of JSON; the same command is the way to profile one case,
 *   e.g. node --cpu-prof --cpu-prof-dir=scratch/prof bench/throughput.js ours 1024 256
 * BENCH_PEER_OPTS='{"channelConfig":{"protocol":"x"}}' adds options to both peers' constructors.
 */
const crypto = require('crypto')
const { makePair, withTimeout, settle, KIB, MIB } = require('./common')

/** The raw sender's pacing: what duplex-peer's constants say. */
const RAW_MESSAGE = 64 * KIB
const RAW_HIGH_WATER_MARK = MIB
const RAW_POLL_MS = 5

const CONNECT_TIMEOUT = 30000
/** A run fails if the reader gets nothing for this long (ms). */
const STALL_TIMEOUT = 20000

const WARMUP = Math.round((process.env.BENCH_WARMUP_MB !== undefined ? Number(process.env.BENCH_WARMUP_MB) : 4) * MIB)

/** Random bytes the timed runs slice their writes from (never modified). */
const POOL_SIZE = 4 * MIB
let pool = null
function getPool () {
  if (!pool) pool = crypto.randomBytes(POOL_SIZE)
  return pool
}

/**
 * Runs one transfer. Resolves with `{ impl, writeSize, bytes, ms, mbps, cpu }`
 * (and `sha256` / `ok` with `verify`), or `{ ..., error }` if it failed.
 */
async function runThroughput (impl, writeSize, total, { verify = false, peerOptions, warmup = WARMUP } = {}) {
  const size = impl === 'raw' ? RAW_MESSAGE : writeSize
  total = Math.ceil(total / size) * size
  warmup = Math.ceil(warmup / size) * size
  const result = { impl, writeSize, bytes: total, warmup }
  if (!verify) getPool() // (not on the clock)
  const pair = makePair(impl, peerOptions)
  try {
    await withTimeout(pair.ready, CONNECT_TIMEOUT, 'pair did not connect')
    const t = impl === 'raw' ? transferRaw(pair, warmup, total, verify) : transferStream(pair, size, warmup, total, verify)
    Object.assign(result, await t)
    result.mbps = result.timedBytes / 1e6 / (result.ms / 1000)
  } catch (err) {
    result.error = (err && (err.code ? `${err.code}: ${err.message}` : err.message)) || String(err)
  } finally {
    await pair.close()
  }
  return result
}

/**
 * The clock and the stall watchdog. `progress()` reports the bytes received
 * so far; `start()` starts the clock (at once without a warm-up); `stop()`
 * returns the timed figures.
 */
function measure (progress, warmup, reject) {
  let t0 = null
  let cpu0 = null
  let atStart = 0
  let last = -1
  let lastChange = Date.now()
  const watchdog = setInterval(() => {
    const now = progress()
    if (now !== last) { last = now; lastChange = Date.now(); return }
    if (Date.now() - lastChange > STALL_TIMEOUT) reject(new Error(`stalled at ${now} bytes`))
  }, 500)
  const start = () => {
    t0 = process.hrtime.bigint()
    cpu0 = process.cpuUsage()
    atStart = progress()
  }
  if (warmup <= 0) start()
  return {
    get started () { return t0 !== null },
    start () { if (t0 === null) start() },
    stop () {
      clearInterval(watchdog)
      if (t0 === null) return { ms: NaN, timedBytes: 0, cpu: null }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      const cpu = process.cpuUsage(cpu0)
      // CPU of the whole process (JS thread and wrtc's threads), in % of one core.
      return { ms, timedBytes: progress() - atStart, cpu: Math.round((cpu.user + cpu.system) / 10 / ms) }
    }
  }
}

function transferStream (pair, writeSize, warmup, timed, verify) {
  const total = warmup + timed
  const { a, b } = pair
  return new Promise((resolve, reject) => {
    let sent = 0
    let got = 0
    let offset = 0
    let block = null
    const hashIn = verify ? crypto.createHash('sha256') : null
    const hashOut = verify ? crypto.createHash('sha256') : null
    const fail = err => { stop(); reject(err) }
    pair.onError = fail
    const onClose = () => fail(new Error('a peer closed during the transfer'))
    a.once('close', onClose)
    b.once('close', onClose)

    const nextChunk = verify
      ? () => {
          // Fresh random bytes each time: nothing written is ever reused.
          if (!block || offset >= block.length) {
            block = crypto.randomFillSync(Buffer.allocUnsafe(Math.max(writeSize, MIB)))
            offset = 0
          }
          const chunk = block.subarray(offset, offset + writeSize)
          offset += writeSize
          hashIn.update(chunk)
          return chunk
        }
      : () => {
          const src = getPool()
          if (offset + writeSize > src.length) offset = 0
          const chunk = src.subarray(offset, offset + writeSize)
          offset += writeSize
          return chunk
        }

    b.on('data', chunk => {
      got += chunk.length
      if (hashOut) hashOut.update(chunk)
      if (!clock.started && got >= warmup) {
        // Warm-up done: the timed part starts now.
        clock.start()
        limit = total
        if (!waitingForDrain) pump()
      }
      if (got >= total) {
        const timing = stop()
        const out = { ...timing, received: got }
        if (verify) {
          out.sha256 = hashOut.digest('hex')
          out.ok = got === total && out.sha256 === hashIn.digest('hex')
        }
        resolve(out)
      }
    })

    const clock = measure(() => got, warmup, fail)
    let stopped = false
    function stop () {
      if (stopped) return null
      stopped = true
      a.removeListener('close', onClose)
      b.removeListener('close', onClose)
      pair.onError = null
      return clock.stop()
    }

    let limit = warmup > 0 ? warmup : total
    let waitingForDrain = false
    function pump () {
      waitingForDrain = false
      try {
        while (sent < limit && !stopped) {
          const chunk = nextChunk()
          sent += chunk.length
          if (!a.write(chunk)) {
            waitingForDrain = true
            a.once('drain', pump)
            return
          }
        }
      } catch (err) {
        fail(err)
      }
    }
    pump()
  })
}

function transferRaw (pair, warmup, timed, verify) {
  const total = warmup + timed
  const { send, recv } = pair
  return new Promise((resolve, reject) => {
    let sent = 0
    let got = 0
    let timer = null
    let offset = 0
    const hashIn = verify ? crypto.createHash('sha256') : null
    const hashOut = verify ? crypto.createHash('sha256') : null
    const src = verify ? null : getPool()
    const fail = err => { stop(); reject(err) }
    recv.onmessage = event => {
      const data = event.data
      got += data.byteLength
      if (hashOut) hashOut.update(new Uint8Array(data))
      if (!clock.started && got >= warmup) {
        clock.start()
        limit = total
        if (!timer) pump()
      }
      if (got >= total) {
        const out = { ...stop(), received: got }
        if (verify) {
          out.sha256 = hashOut.digest('hex')
          out.ok = got === total && out.sha256 === hashIn.digest('hex')
        }
        resolve(out)
      }
    }
    send.onclose = () => fail(new Error('channel closed during the transfer'))
    const clock = measure(() => got, warmup, fail)
    let stopped = false
    function stop () {
      if (stopped) return null
      stopped = true
      if (timer) clearTimeout(timer)
      send.onclose = null
      return clock.stop()
    }
    let limit = warmup > 0 ? warmup : total
    function pump () {
      timer = null
      try {
        while (sent < limit && send.bufferedAmount < RAW_HIGH_WATER_MARK) {
          let chunk
          if (verify) {
            chunk = crypto.randomBytes(RAW_MESSAGE)
            hashIn.update(chunk)
          } else {
            if (offset + RAW_MESSAGE > src.length) offset = 0
            chunk = src.subarray(offset, offset + RAW_MESSAGE)
            offset += RAW_MESSAGE
          }
          send.send(chunk)
          sent += RAW_MESSAGE
        }
      } catch (err) {
        fail(err)
        return
      }
      if (sent < limit && !stopped) timer = setTimeout(pump, RAW_POLL_MS)
    }
    pump()
  })
}

module.exports = { runThroughput, RAW_MESSAGE }

if (require.main === module) {
  const [impl = 'ours', ws = '65536', mib = '64'] = process.argv.slice(2).filter(a => !a.startsWith('--'))
  const verify = process.argv.includes('--verify')
  const peerOptions = process.env.BENCH_PEER_OPTS ? JSON.parse(process.env.BENCH_PEER_OPTS) : undefined
  runThroughput(impl, Number(ws), Number(mib) * MIB, { verify, peerOptions }).then(async r => {
    process.stdout.write(JSON.stringify(r) + '\n')
    if (r.error) process.exitCode = 1
    await settle(200) // (see the end of index.js)
    // simple-peer 9 leaves a timer of a few seconds behind each destroyed
    // peer: the result is out, do not wait for it. Other pairs leave nothing.
    if (impl === 'simple-peer') process.exit()
  })
}

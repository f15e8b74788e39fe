'use strict'
/**
 * Striped streams (the `stripes` option): `npm run bench:stripes` (builds
 * first) runs this section alone, `npm run bench` runs it with the others.
 *
 * Through UDP relays on 127.0.0.1 (test/faults/links.js: every connection of
 * a pair gets a relay of its own, with the same one-way delay and random
 * loss in both directions) at (25 ms, 0 %), (25 ms, 1 %) and (50 ms, 0 %):
 *
 * - a duplex-peer pair with `stripes: 1`, `2`, `4` and `'auto'`: the writer
 *   calls `write()` with 64 KiB chunks until it returns false, then waits
 *   for `drain`, and calls `end()` after the last one. Every chunk is a slice
 *   of a random pool with its index stamped into its first 8 bytes, and both
 *   ends hash all of it (SHA-256): a run whose receiver did not get exactly
 *   what was written, in order, fails.
 * - N = 1, 2, 4 raw @roamhq/wrtc data channels side by side, each on its own
 *   RTCPeerConnection through its own relay (the relays get the same loss
 *   seeds as the stripes of a peer): 64 KiB messages, up to 4 MiB buffered
 *   per channel, the bytes split evenly between the channels. What N
 *   independent SCTP associations give on these links: the ceiling of N
 *   stripes.
 *
 * and on plain loopback (no relay) `stripes: 1` against `'auto'`.
 *
 * Each measurement is a fresh pair (or N raw pairs) with fresh relays, in a
 * process of its own; everything is destroyed and closed at its end. Writing
 * starts as soon as the pair is connected (a peer with stripes makes its
 * extra connections meanwhile). The clock starts once the receiver has the
 * first eighth of the bytes (the warm-up) and stops when it has them all:
 * "MB/s" (10^6 bytes/s) is that steady part; "whole" counts every byte from
 * the first write, extra connections, `'auto'`'s probing and slow start
 * included. Each relay draws its own losses, and has no bandwidth cap:
 * connections do not compete for one bottleneck as on a real path.
 *
 * Environment (defaults in brackets):
 *   BENCH_STRIPES_SCALE   multiplies every size below, e.g. 0.125 for a quick run [1]
 *   BENCH_STRIPES_LINKS   relays, "delay/loss" comma-separated [25/0,25/0.01,50/0]
 *   BENCH_STRIPES_LOOPBACK  0: skip the loopback comparison [1]
 * Sizes sent per run: 32 MiB at 0 % loss (16 MiB for `stripes: 1` and one
 * raw channel at 50 ms: about 1.2 MB/s); at 1 % loss 16 MiB, or 6 MiB for
 * `stripes: 1` and one raw channel (about 0.3 MB/s); 128 MiB on loopback.
 * The whole section takes about 6 minutes at scale 1.
 *
 * One measurement:
 *   node bench/stripes.js peer 25/0.01|loopback 1|2|4|auto MiB
 *   node bench/stripes.js raw 25/0.01 N MiB
 * prints one line of JSON. With no arguments, this file runs the section and
 * prints its table (stdout; progress on stderr), and writes its figures to
 * BENCH_JSON [bench/stripes-results.json].
 */
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const { load, PC_CONFIG, KIB, MIB, sleep, settle, withTimeout, runChild, closeRaw, fmtSize, fmtNum, fmtRatio, mdTable } = require('./common')
const { Links } = require('../test/faults/links')

const CHUNK = 64 * KIB
/** Raw channels: the most each one buffers, and how often the sender looks (ms; @roamhq/wrtc fires no `bufferedamountlow`). */
const RAW_HIGH_WATER_MARK = 4 * MIB
const RAW_POLL_MS = 2
/** The clock starts once the receiver has this fraction of the bytes. */
const WARMUP_FRACTION = 1 / 8
const CONNECT_TIMEOUT = 30000
/** A run fails if the receiver gets nothing for this long (ms). */
const STALL_TIMEOUT = 30000
/** A measurement process that dies without a result is run again this many times at most. */
const CHILD_RETRIES = 2

/** Goals of striped streams, checked in the footnote of the table. */
const GOALS = { lossy4: 3.5, delay4: 2, autoVsBest: 0.8, loopbackAuto: 0.95 }

// ------------------------------------------------------------ one measurement

/** "25/0.01" → { delay: 25, loss: 0.01 }; "loopback" → null. */
function parseLink (text) {
  if (text === 'loopback') return null
  const [delay, loss] = String(text).split('/').map(Number)
  if (!Number.isFinite(delay) || !Number.isFinite(loss) || delay < 0 || loss < 0 || loss >= 1) {
    throw new Error(`bad link ${JSON.stringify(text)}: expected delay/loss, e.g. 25/0.01, or loopback`)
  }
  return { delay, loss }
}

function linkName (link) {
  return link ? `${link.delay}/${link.loss}` : 'loopback'
}

/** Bytes received over time (for the whole figure and a per-second timeline) and the stall watchdog. */
function clock (total, warmup, received, fail) {
  const t0 = process.hrtime.bigint()
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6
  let warm = null
  const timeline = []
  let last = -1
  let lastChange = Date.now()
  const timer = setInterval(() => {
    const now = received()
    timeline.push(now)
    if (now !== last) { last = now; lastChange = Date.now(); return }
    if (Date.now() - lastChange > STALL_TIMEOUT) fail(new Error(`stalled at ${now} of ${total} bytes`))
  }, 1000)
  return {
    /** Call on every arrival. */
    tick () {
      if (warm === null && received() >= warmup) warm = { ms: ms(), bytes: received() }
    },
    stop () {
      clearInterval(timer)
      const end = ms()
      const got = received()
      if (warm === null) warm = { ms: end, bytes: got }
      const timedMs = end - warm.ms
      return {
        ms: end,
        timedMs,
        timedBytes: got - warm.bytes,
        mbps: (got - warm.bytes) / 1e6 / (timedMs / 1000),
        wholeMbps: got / 1e6 / (end / 1000),
        // Bytes received in each second (the last, partial second left out).
        perSecondMB: timeline.map((n, i) => +((n - (i ? timeline[i - 1] : 0)) / 1e6).toFixed(3))
      }
    }
  }
}

/** Relay figures: how many relays were made and how many packets they dropped and forwarded. */
async function relayCounts (links) {
  if (!links) return null
  const all = await links.all()
  return { relays: all.length, dropped: all.reduce((n, l) => n + l.dropped, 0), forwarded: all.reduce((n, l) => n + l.forwarded, 0) }
}

/**
 * One duplex-peer pair (`stripes` as given on both sides), `bytes` from the
 * initiator to the other, through a fresh relay per connection (`link`) or
 * over plain loopback (`link` null).
 */
async function runPeer (link, stripes, bytes) {
  const { Peer } = load()
  const total = Math.ceil(bytes / CHUNK) * CHUNK
  const result = { kind: 'peer', link, n: stripes, bytes: total }
  const links = link ? new Links({ delay: link.delay, loss: link.loss }) : null
  const sideOptions = side => ({ config: PC_CONFIG, stripes, ...(links ? { wrtc: links.wrtcFor(side) } : {}) })
  const a = new Peer({ initiator: true, ...sideOptions('a') })
  const b = new Peer(sideOptions('b'))
  const closed = [a, b].map(p => new Promise(resolve => p.once('close', resolve)))
  let onError = null
  for (const p of [a, b]) {
    // Errors after connecting end the run (not the process).
    p.on('error', err => { if (onError) onError(err) })
  }
  a.on('signal', data => { if (!b.destroyed) b.signal(data) })
  b.on('signal', data => { if (!a.destroyed) a.signal(data) })
  try {
    const connected = Promise.all([a, b].map(p => new Promise((resolve, reject) => {
      p.once('connect', resolve)
      p.once('error', reject)
    })))
    await withTimeout(connected, CONNECT_TIMEOUT, 'the pair did not connect')
    // The sender's striping report, looked at every second and at the last byte (the peers close soon after).
    let latest = null
    const snapshot = () => {
      if (stripes === 1 || a.destroyed) return
      a.getStats().then(reports => {
        const report = reports.find(r => r.type === 'stripes')
        if (report) latest = { agreed: report.agreed, open: report.open, framed: report.framed, benched: report.benched, hedged: report.hedged, decisions: report.decisions }
      }, () => {})
    }
    const poll = setInterval(snapshot, 1000)
    try {
      Object.assign(result, await transferPeer(a, b, total, fail => { onError = fail }, snapshot))
    } finally {
      clearInterval(poll)
    }
    await sleep(50)
    if (latest) result.stripes = latest
  } catch (err) {
    result.error = (err && (err.code ? `${err.code}: ${err.message}` : err.message)) || String(err)
  } finally {
    onError = null
    a.destroy()
    b.destroy()
    await withTimeout(Promise.all(closed), 10000, 'the peers did not close').catch(() => {})
    result.relay = await relayCounts(links)
    if (links) await links.close()
  }
  return result
}

function transferPeer (a, b, total, setOnError, atLastByte) {
  const pool = crypto.randomBytes(4 * MIB)
  const hashIn = crypto.createHash('sha256')
  const hashOut = crypto.createHash('sha256')
  return new Promise((resolve, reject) => {
    let got = 0
    let done = false
    // The clock stops at the last byte; `end` follows, and then the hashes are compared.
    let figures = null
    const timing = clock(total, Math.round(total * WARMUP_FRACTION), () => got, err => finish(err))
    function finish (err) {
      if (done) return
      done = true
      a.removeListener('close', onClose)
      b.removeListener('close', onClose)
      if (!figures) figures = timing.stop()
      if (err) return reject(err)
      const sent = hashIn.digest('hex')
      const sha256 = hashOut.digest('hex')
      if (got !== total || sha256 !== sent) return reject(new Error(`received ${got} of ${total} bytes, SHA-256 ${sha256 === sent ? 'matches' : 'DIFFERS'}`))
      resolve({ ...figures, received: got, sha256, ok: true })
    }
    setOnError(err => finish(err))
    // Without allowHalfOpen, a peer closes once both sides have ended: that may come before `end` is seen.
    const onClose = () => finish(got >= total ? null : new Error(`a peer closed during the transfer, at ${got} of ${total} bytes`))
    a.once('close', onClose)
    b.once('close', onClose)
    b.on('data', chunk => {
      got += chunk.length
      hashOut.update(chunk)
      timing.tick()
      if (got >= total && !figures) {
        figures = timing.stop()
        atLastByte()
      }
    })
    b.once('end', () => finish(null))

    let sent = 0
    let index = 0
    const nextChunk = () => {
      // A fresh buffer each time (the stream may hold it), from a pool offset that never repeats in step with the index.
      const offset = (index * 7919 * 8) % (pool.length - CHUNK)
      const chunk = Buffer.from(pool.subarray(offset, offset + CHUNK))
      chunk.writeBigUInt64LE(BigInt(index++), 0)
      hashIn.update(chunk)
      return chunk
    }
    const pump = () => {
      try {
        while (sent < total && !done) {
          const chunk = nextChunk()
          sent += chunk.length
          if (sent >= total) { a.end(chunk); return }
          if (!a.write(chunk)) { a.once('drain', pump); return }
        }
      } catch (err) {
        finish(err)
      }
    }
    pump()
  })
}

/**
 * One raw pair through the relays of `links`: an RTCPeerConnection per side
 * and one ordered data channel. Resolves once the channel is open at both ends.
 */
async function rawLinkedPair (links) {
  const A = links.wrtcFor('a').RTCPeerConnection
  const B = links.wrtcFor('b').RTCPeerConnection
  const a = new A(PC_CONFIG)
  const b = new B(PC_CONFIG)
  // Candidates wait until the remote description is set.
  const pending = { a: [], b: [] }
  const ready = { a: false, b: false }
  const deliver = (to, pc, c) => { if (ready[to]) pc.addIceCandidate(c).catch(() => {}); else pending[to].push(c) }
  const flush = (to, pc) => { ready[to] = true; for (const c of pending[to]) pc.addIceCandidate(c).catch(() => {}); pending[to] = [] }
  a.onicecandidate = e => { if (e.candidate) deliver('b', b, e.candidate) }
  b.onicecandidate = e => { if (e.candidate) deliver('a', a, e.candidate) }
  const send = a.createDataChannel('bench', { ordered: true })
  send.binaryType = 'arraybuffer'
  const pair = {
    send,
    recv: null,
    close () {
      closeRaw([pair.send, pair.recv], [a, b])
    }
  }
  const received = new Promise(resolve => { b.ondatachannel = e => resolve(e.channel) })
  const sendOpen = new Promise(resolve => { send.onopen = resolve })
  try {
    const offer = await a.createOffer()
    await a.setLocalDescription(offer)
    await b.setRemoteDescription({ type: offer.type, sdp: offer.sdp })
    flush('b', b)
    const answer = await b.createAnswer()
    await b.setLocalDescription(answer)
    await a.setRemoteDescription({ type: answer.type, sdp: answer.sdp })
    flush('a', a)
    pair.recv = await withTimeout(received, CONNECT_TIMEOUT, 'a raw channel did not open')
    pair.recv.binaryType = 'arraybuffer'
    if (send.readyState !== 'open') await withTimeout(sendOpen, CONNECT_TIMEOUT, 'a raw channel did not open')
  } catch (err) {
    pair.close()
    throw err
  }
  return pair
}

/** `n` raw channels side by side, each through its own relay, `bytes` split evenly between them. */
async function runRaw (link, n, bytes) {
  const share = Math.ceil(bytes / n / CHUNK) * CHUNK
  const total = share * n
  const result = { kind: 'raw', link, n, bytes: total }
  const links = new Links({ delay: link.delay, loss: link.loss })
  const pairs = []
  try {
    for (let i = 0; i < n; i++) pairs.push(await rawLinkedPair(links))
    Object.assign(result, await transferRaw(pairs, share, total))
  } catch (err) {
    result.error = (err && err.message) || String(err)
  } finally {
    for (const p of pairs) p.close()
    await sleep(100)
    result.relay = await relayCounts(links)
    await links.close()
  }
  return result
}

function transferRaw (pairs, share, total) {
  const payload = crypto.randomBytes(CHUNK)
  return new Promise((resolve, reject) => {
    let got = 0
    let done = false
    let timer = null
    const sent = pairs.map(() => 0)
    const timing = clock(total, Math.round(total * WARMUP_FRACTION), () => got, err => finish(err))
    function finish (err) {
      if (done) return
      done = true
      if (timer) clearTimeout(timer)
      const t = timing.stop()
      if (err) reject(err)
      else resolve({ ...t, received: got })
    }
    for (const p of pairs) {
      p.recv.onmessage = e => {
        got += e.data.byteLength
        timing.tick()
        if (got >= total) finish(null)
      }
      p.send.onclose = () => finish(new Error('a raw channel closed during the transfer'))
    }
    const pump = () => {
      timer = null
      try {
        pairs.forEach((p, i) => {
          while (sent[i] < share && p.send.bufferedAmount < RAW_HIGH_WATER_MARK) {
            p.send.send(payload)
            sent[i] += CHUNK
          }
        })
      } catch (err) {
        return finish(err)
      }
      if (!done && sent.some(s => s < share)) timer = setTimeout(pump, RAW_POLL_MS)
    }
    pump()
  })
}

// ------------------------------------------------------------------- section

function envNumber (name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${JSON.stringify(raw)} is not a number >= 0`)
  return n
}

function settings () {
  return {
    scale: envNumber('BENCH_STRIPES_SCALE', 1) || 1,
    links: (process.env.BENCH_STRIPES_LINKS || '25/0,25/0.01,50/0').split(',').map(s => s.trim()).filter(Boolean).map(parseLink),
    loopback: process.env.BENCH_STRIPES_LOOPBACK !== '0'
  }
}

/** MiB sent in one run: less where one connection is slow (about 0.3 MB/s at 1 % loss, 1.2 MB/s at 50 ms). */
function sizeMiB (link, n, scale) {
  const base = link === null ? 128 : link.loss > 0 ? (n === 1 ? 6 : 16) : (n === 1 && link.delay >= 50 ? 16 : 32)
  return Math.max(0.25, base * scale)
}

/** The cases of one link, each fixed count next to its raw counterpart (load on the machine drifts). */
function casesOf (link) {
  if (link === null) return [['peer', 1], ['peer', 'auto']]
  return [['peer', 1], ['raw', 1], ['peer', 2], ['raw', 2], ['peer', 4], ['raw', 4], ['peer', 'auto']]
}

/** One measurement in a process of its own; a process that dies without a result is run again. */
async function measure (kind, link, n, mib, progress) {
  const args = [kind, linkName(link), n, mib]
  let crashes = 0
  for (;;) {
    // Generous: a stalled transfer fails by itself after STALL_TIMEOUT.
    const res = await runChild('stripes.js', args, 60000 + mib * 20000)
    if (res.mbps !== undefined || (res.error && !res.exitSignal) || crashes >= CHILD_RETRIES) return { kind, link, n, ...res, crashes }
    crashes++
    progress(`  (${args.join(' ')}: the process died, ${res.exitSignal || res.error}; running it again)`)
  }
}

function describe (r) {
  const what = r.kind === 'raw' ? `${r.n} raw channel${r.n > 1 ? 's' : ''}` : `stripes: ${r.n}`
  return `${r.link ? `${r.link.delay} ms, ${r.link.loss * 100} %` : 'loopback'}, ${what}`
}

/**
 * Runs the section. `progress(text)` reports each measurement as it ends.
 * Resolves with `{ settings, runs: [...] }` for {@link reportStripes}.
 */
async function benchStripes ({ progress = text => process.stderr.write(text + '\n') } = {}) {
  const s = settings()
  const runs = []
  const links = s.loopback ? [...s.links, null] : s.links
  for (const link of links) {
    for (const [kind, n] of casesOf(link)) {
      const mib = sizeMiB(link, n === 'auto' ? 2 : n, s.scale)
      const r = await measure(kind, link, n, mib, progress)
      runs.push(r)
      const extra = r.stripes ? `, stripes open at the end: ${r.stripes.open.length}` : ''
      progress(`${describe(r)}, ${fmtSize(r.bytes || Math.round(mib * MIB))}: ` + (r.error
        ? `fails: ${r.error}`
        : `${fmtNum(r.mbps)} MB/s (whole transfer ${fmtNum(r.wholeMbps)} MB/s)${r.ok ? ', SHA-256 matches' : ''}${extra}` +
          (r.relay ? `, ${r.relay.relays} relay(s) dropped ${r.relay.dropped} packets` : '')))
    }
  }
  return { settings: { ...s, warmupFraction: WARMUP_FRACTION }, runs }
}

const ratio = (x, y) => (typeof x === 'number' && typeof y === 'number' && y > 0 ? x / y : null)
const check = ok => (ok === null ? '' : ok ? ' ✓' : ' ✗')

/** The figures of `runs` in one link's group, by case. */
function grouped (result) {
  const groups = new Map()
  for (const r of result.runs) {
    const key = linkName(r.link)
    if (!groups.has(key)) groups.set(key, { link: r.link, peer: new Map(), raw: new Map() })
    groups.get(key)[r.kind].set(r.n, r)
  }
  return [...groups.values()]
}

function analyse (result) {
  return grouped(result).map(g => {
    const ok = r => (r && !r.error ? r : null)
    const one = ok(g.peer.get(1))
    const fixed = [...g.peer.entries()].filter(([n, r]) => n !== 'auto' && ok(r))
    const best = fixed.length ? fixed.reduce((x, y) => (y[1].mbps > x[1].mbps ? y : x)) : null
    const rows = []
    for (const [n, r] of g.peer) {
      const endedAt = r.stripes ? r.stripes.open.length : null
      const rawN = n === 'auto' ? endedAt : n
      const raw = ok(g.raw.get(rawN))
      rows.push({
        r,
        n,
        endedAt,
        vsOne: ok(r) && one ? ratio(r.mbps, one.mbps) : null,
        vsOneWhole: ok(r) && one ? ratio(r.wholeMbps, one.wholeMbps) : null,
        vsRaw: ok(r) && raw ? ratio(r.mbps, raw.mbps) : null,
        rawN: raw ? rawN : null,
        // (On loopback the only fixed count measured is 1: `vsOne` says it.)
        vsBest: n === 'auto' && g.link && ok(r) && best ? ratio(r.mbps, best[1].mbps) : null,
        vsBestWhole: n === 'auto' && g.link && ok(r) && best ? ratio(r.wholeMbps, best[1].wholeMbps) : null,
        bestN: best ? best[0] : null
      })
    }
    return { link: g.link, rows, raw: [...g.raw.values()] }
  })
}

/** Markdown lines of the section. */
function reportStripes (result) {
  const groups = analyse(result)
  const out = ['', '### Striped streams', '',
    'A duplex-peer pair with the `stripes` option on both sides, through UDP relays on 127.0.0.1 (one per connection, ' +
    'the one-way delay and random loss given in both directions, no bandwidth cap), and N raw @roamhq/wrtc data channels side by side, ' +
    'each on its own connection and relay: the ceiling of N stripes. One run each, in a process of its own, writing from `connect` on; ' +
    `MB/s (10^6 bytes/s) after the first ${Math.round(result.settings.warmupFraction * 8)}/8 of the bytes (warm-up), "whole": from the first write. ` +
    'Every duplex-peer run checks the SHA-256 of all the bytes received.', '']
  const rows = [['Link (one-way)', 'Case', 'Sent', 'MB/s', 'whole', '÷ `stripes: 1`', '÷ N raw channels', '÷ best fixed N']]
  for (const g of groups) {
    const name = g.link ? `${g.link.delay} ms, ${g.link.loss * 100} %` : 'loopback'
    let first = true
    const cell = r => (r.error ? 'fails' : fmtNum(r.mbps))
    const whole = r => (r.error ? '' : fmtNum(r.wholeMbps))
    for (const row of g.rows) {
      const r = row.r
      const label = row.n === 'auto'
        ? `\`'auto'\`${row.endedAt ? ` (${row.endedAt} at the end)` : ''}`
        : `\`stripes: ${row.n}\``
      rows.push([first ? name : '', label, fmtSize(r.bytes || 0), cell(r) + (r.ok === false ? ' (SHA-256 differs)' : ''), whole(r),
        row.n === 1 ? '' : fmtRatio(row.vsOne),
        row.vsRaw === null ? '' : `${fmtRatio(row.vsRaw)} (${row.rawN})`,
        row.vsBest === null ? '' : `${fmtRatio(row.vsBest)} (${row.bestN})`])
      first = false
    }
    for (const r of g.raw) {
      rows.push(['', `${r.n} raw channel${r.n > 1 ? 's' : ''}`, fmtSize(r.bytes || 0), cell(r), whole(r), '', '', ''])
    }
  }
  out.push(mdTable(rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']))
  out.push('', 'Goals (after the warm-up; in brackets, of the whole transfer):', '',
    ...goals(groups).map(g => `- ${g.name} ${g.target}: ${g.measured}${check(g.ok)}`))
  const failed = result.runs.filter(r => r.error)
  for (const r of failed) out.push(`- ${describe(r)}: ${r.error}`)
  const crashed = result.runs.filter(r => r.crashes)
  if (crashed.length) out.push(`- ${crashed.length} measurement(s) repeated after the process crashed (in @roamhq/wrtc)`)
  return out
}

/**
 * The goals: `{ name, target, measured, ok }` each, `ok` null when it could
 * not be measured. Measured: the ratio after the warm-up (of the whole transfer).
 */
function goals (groups) {
  const find = (delay, loss) => groups.find(g => (g.link === null ? delay === null : g.link.delay === delay && g.link.loss === loss))
  const row = (g, n) => (g ? g.rows.find(x => x.n === n) || null : null)
  const goal = (name, target, r, key, wholeKey) => {
    const x = r ? r[key] : null
    return {
      name,
      target: `≥ ${target}×`,
      measured: x === null ? '–' : `${fmtRatio(x)} (${fmtRatio(r[wholeKey])})`,
      ok: x === null ? null : x >= target
    }
  }
  const out = [
    goal('`stripes: 4` ÷ `stripes: 1` at 25 ms, 1 %', GOALS.lossy4, row(find(25, 0.01), 4), 'vsOne', 'vsOneWhole'),
    goal('`stripes: 4` ÷ `stripes: 1` at 50 ms, 0 %', GOALS.delay4, row(find(50, 0), 4), 'vsOne', 'vsOneWhole')
  ]
  for (const g of groups) {
    if (g.link) out.push(goal(`\`'auto'\` ÷ best fixed N at ${g.link.delay} ms, ${g.link.loss * 100} %`, GOALS.autoVsBest, row(g, 'auto'), 'vsBest', 'vsBestWhole'))
  }
  if (find(null)) out.push(goal('`\'auto\'` ÷ `stripes: 1` on loopback', GOALS.loopbackAuto, row(find(null), 'auto'), 'vsOne', 'vsOneWhole'))
  return out
}

/** The goals, for the targets table of bench/index.js. */
function stripeTargets (result) {
  return goals(analyse(result))
}

module.exports = { benchStripes, reportStripes, stripeTargets, runPeer, runRaw }

// --------------------------------------------------------------------- main

async function main () {
  const args = process.argv.slice(2)
  if (args.length > 0) {
    const [kind, linkText, nText, mibText] = args
    const link = parseLink(linkText)
    const n = nText === 'auto' ? 'auto' : Number(nText)
    const mib = Number(mibText)
    if (!(mib > 0) || (n !== 'auto' && !(n >= 1))) throw new Error('usage: node bench/stripes.js peer|raw DELAY/LOSS|loopback N|auto MiB')
    let result
    if (kind === 'peer') result = await runPeer(link, n, Math.round(mib * MIB))
    else if (kind === 'raw' && link && n !== 'auto') result = await runRaw(link, n, Math.round(mib * MIB))
    else throw new Error('usage: node bench/stripes.js peer|raw DELAY/LOSS|loopback N|auto MiB (raw: through a relay, N a number)')
    process.stdout.write(JSON.stringify(result) + '\n')
    await settle(200)
    return result.error ? 1 : 0
  }
  const started = Date.now()
  const result = await benchStripes({
    progress: text => process.stderr.write(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${text}\n`)
  })
  result.elapsedSeconds = Math.round((Date.now() - started) / 1000)
  const markdown = reportStripes(result).join('\n')
  result.markdown = markdown
  const file = path.resolve(process.env.BENCH_JSON || path.join(__dirname, 'stripes-results.json'))
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  process.stdout.write(markdown + '\n\n')
  process.stderr.write(`done in ${result.elapsedSeconds} s; results in ${path.relative(process.cwd(), file) || file}\n`)
  return result.runs.some(r => r.error) ? 1 : 0
}

if (require.main === module) {
  // @roamhq/wrtc may crash in its finalizers on a natural exit (lib/exit.ts): end explicitly.
  main().then(code => process.exit(code), err => {
    process.stdout.write(JSON.stringify({ error: err.message }) + '\n')
    process.exit(1)
  })
}

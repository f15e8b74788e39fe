'use strict'
/**
 * Shared pieces of the benchmark: the three kinds of pair (duplex-peer,
 * simple-peer 9.x, raw @roamhq/wrtc), all in one process over loopback with
 * no ICE servers, and small statistics and formatting helpers.
 *
 * Units: throughput in MB/s with 1 MB = 10^6 bytes (as `npm start` prints it);
 * sizes and memory in binary units (KiB, MiB, GiB).
 */
const v8 = require('v8')
const vm = require('vm')
const path = require('path')
const { execFile } = require('child_process')

const ROOT = path.join(__dirname, '..')

/**
 * The implementations, loaded on first use (bench/index.js itself creates no
 * peer and does not load them). BENCH_PEER=path measures another build of
 * duplex-peer (e.g. an experiment) in place of this one.
 */
let loaded = null
function load () {
  if (!loaded) {
    loaded = {
      Peer: require(process.env.BENCH_PEER ? path.resolve(process.env.BENCH_PEER) : ROOT),
      SimplePeer: require('simple-peer'),
      wrtc: require('@roamhq/wrtc')
    }
  }
  return loaded
}

const KIB = 1024
const MIB = 1024 * KIB
const GIB = 1024 * MIB

/** No STUN/TURN: the machine has no internet, and loopback needs none. */
const PC_CONFIG = { iceServers: [] }

const IMPLS = {
  ours: { label: 'duplex-peer', version: require(path.join(ROOT, 'package.json')).version },
  'simple-peer': { label: 'simple-peer', version: require('simple-peer/package.json').version },
  raw: { label: 'raw wrtc', version: require('@roamhq/wrtc/package.json').version }
}

/** Node's `gc()`, exposed at run time so `node bench/index.js` needs no flag. */
const gc = (() => {
  if (typeof global.gc === 'function') return global.gc
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc')
})()

/** Full collection, then a few ms for native memory to be handed back. */
async function settle (ms = 50) {
  gc()
  await sleep(ms)
  gc()
}

function sleep (ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

// ------------------------------------------------------------------ pairs

/**
 * A pair of stream peers (`ours` or `simple-peer`), signals wired together.
 * `options` go to both constructors; `keepSignal(data)`, if given, decides which
 * signals are passed on. `ready` resolves once both have emitted `connect`; `close()` destroys both
 * and resolves once both have emitted `close`. Errors after `ready` go to
 * `onError` (set it per run), so a failing peer never crashes the bench.
 */
function streamPair (impl, options = {}, { keepSignal = null } = {}) {
  const { Peer, SimplePeer, wrtc } = load()
  const Ctor = impl === 'ours' ? Peer : SimplePeer
  const extra = impl === 'ours' ? { ...options } : { wrtc, ...options }
  const a = new Ctor({ initiator: true, config: PC_CONFIG, ...extra })
  const b = new Ctor({ config: PC_CONFIG, ...extra })
  const pair = { impl, a, b, onError: null, errors: [] }
  const closed = [a, b].map(p => new Promise(resolve => p.once('close', resolve)))
  const pass = keepSignal || (() => true)
  a.on('signal', data => { if (!b.destroyed && pass(data)) b.signal(data) })
  b.on('signal', data => { if (!a.destroyed && pass(data)) a.signal(data) })
  pair.ready = new Promise((resolve, reject) => {
    let n = 0
    const onConnect = () => { if (++n === 2) resolve(pair) }
    for (const p of [a, b]) {
      p.once('connect', onConnect)
      p.on('error', err => {
        pair.errors.push(err)
        if (n < 2) reject(err)
        else if (pair.onError) pair.onError(err)
      })
    }
  })
  pair.ready.catch(() => {})
  pair.close = async () => {
    a.destroy()
    b.destroy()
    await Promise.all(closed)
  }
  return pair
}

/**
 * A raw @roamhq/wrtc pair: two RTCPeerConnections and one data channel.
 * `ready` resolves once the channel is open on both ends with
 * `{ send: RTCDataChannel, recv: RTCDataChannel }`.
 */
function rawPair () {
  const { wrtc } = load()
  const a = new wrtc.RTCPeerConnection(PC_CONFIG)
  const b = new wrtc.RTCPeerConnection(PC_CONFIG)
  const pair = { impl: 'raw', a, b, send: null, recv: null, onError: null }
  a.onicecandidate = e => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}) }
  b.onicecandidate = e => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}) }
  const send = a.createDataChannel('bench')
  send.binaryType = 'arraybuffer'
  pair.send = send
  pair.ready = new Promise((resolve, reject) => {
    let n = 0
    const opened = () => { if (++n === 2) resolve(pair) }
    send.onopen = opened
    b.ondatachannel = e => {
      pair.recv = e.channel
      e.channel.binaryType = 'arraybuffer'
      if (e.channel.readyState === 'open') opened()
      else e.channel.onopen = opened
    }
    ;(async () => {
      const offer = await a.createOffer()
      await a.setLocalDescription(offer)
      await b.setRemoteDescription(offer)
      const answer = await b.createAnswer()
      await b.setLocalDescription(answer)
      await a.setRemoteDescription(answer)
    })().catch(reject)
  })
  pair.ready.catch(() => {})
  pair.close = async () => {
    closeRaw([pair.send, pair.recv], [a, b])
    await sleep(0)
  }
  return pair
}

/** Signal filter: drops ICE-TCP candidates, so that only UDP is tried. */
/** Closes raw channels and connections, with no more events from them. */
function closeRaw (channels, connections) {
  for (const ch of channels) {
    if (!ch) continue
    ch.onmessage = ch.onopen = ch.onclose = null
    try { ch.close() } catch {}
  }
  for (const pc of connections) {
    pc.onicecandidate = pc.ondatachannel = null
    try { pc.close() } catch {}
  }
}

function udpOnly (data) {
  const line = data && data.candidate && data.candidate.candidate
  return !(typeof line === 'string' && / tcp /i.test(line))
}

function makePair (impl, options) {
  return impl === 'raw' ? rawPair() : streamPair(impl, options)
}

/** Rejects with `message` if `promise` has not settled within `ms`. */
function withTimeout (promise, ms, message) {
  let timer
  return Promise.race([
    promise,
    new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) })
  ]).finally(() => clearTimeout(timer))
}

// ---------------------------------------------------------- child processes

/**
 * Runs `node bench/<script> ...args` and resolves with the JSON of its last
 * line of output. A child that printed its result and then crashed while
 * exiting keeps its result, with `exitSignal` / `exitCode` recorded.
 */
function runChild (script, args, timeoutMs) {
  return new Promise(resolve => {
    execFile(process.execPath, [path.join(__dirname, script), ...args.map(String)],
      { timeout: timeoutMs, maxBuffer: 16 * MIB }, (err, stdout, stderr) => {
        const line = String(stdout).trim().split('\n').pop()
        let parsed = null
        try { parsed = JSON.parse(line) } catch {}
        if (!parsed) parsed = { error: err ? err.message.split('\n')[0] : 'no result' }
        if (err) {
          if (err.signal) parsed.exitSignal = err.signal
          else if (typeof err.code === 'number') parsed.exitCode = err.code
          const lines = String(stderr).split('\n').filter(l => l.trim() && !/Ignoring unsupported ICE candidate/.test(l))
          if (lines.length) process.stderr.write(`${script} ${args.join(' ')}: ${err.signal || 'exit ' + err.code}\n  ` + lines.slice(-5).join('\n  ') + '\n')
        }
        resolve(parsed)
      })
  })
}

// ------------------------------------------------------------ statistics

function median (values) {
  const v = values.filter(x => typeof x === 'number' && Number.isFinite(x)).sort((x, y) => x - y)
  if (v.length === 0) return null
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

function rssMiB () {
  return process.memoryUsage().rss / MIB
}

// ------------------------------------------------------------- formatting

function fmtSize (bytes) {
  if (bytes >= GIB && bytes % GIB === 0) return `${bytes / GIB} GiB`
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`
  return `${bytes} B`
}

/** A number with `digits` significant figures at most, e.g. 43.2, 2.71, 318. */
function fmtNum (x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–'
  if (x === 0) return '0'
  const mag = Math.floor(Math.log10(Math.abs(x)))
  const decimals = Math.max(0, Math.min(2, digits - 1 - mag))
  return x.toFixed(decimals)
}

function fmtRatio (x) {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`
}

/** `| a | b |` rows, first one the header. */
function mdTable (rows, align) {
  const line = cells => `| ${cells.join(' | ')} |`
  const sep = (align || rows[0].map((_, i) => (i === 0 ? 'l' : 'r')))
    .map(a => (a === 'r' ? '---:' : a === 'c' ? ':---:' : '---'))
  return [line(rows[0]), line(sep), ...rows.slice(1).map(line)].join('\n')
}

module.exports = {
  closeRaw,
  load, PC_CONFIG, IMPLS, KIB, MIB, GIB,
  gc, settle, sleep, streamPair, rawPair, makePair, udpOnly, withTimeout, runChild,
  median, rssMiB, fmtSize, fmtNum, fmtRatio, mdTable
}

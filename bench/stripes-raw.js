'use strict'
/**
 * Baseline for striped streams (issue 15): N raw @roamhq/wrtc data channels,
 * each on its own RTCPeerConnection with its own UDP relay (test/faults/link.js),
 * all sending 64 KiB messages at once with up to 4 MiB buffered per channel.
 * Prints the aggregate received MB/s (1 MB = 10^6 bytes) over a timed window
 * after a warm-up, for each (delay, loss) and N.
 *
 *   node bench/stripes-raw.js [--seconds 10] [--warmup 3] [--n 1,2,4]
 *                             [--links 25/0,25/0.01]
 *
 * Measured 2026-12-03 on a 2-core machine shared with other jobs (load
 * average about 3-5), 10 s windows after a 3 s warm-up, two runs (A, B):
 *
 *   link (one-way, loss) | N=1            | N=2            | N=4
 *   25 ms, 0 %           | A 2.31, B 2.03 | A 8.28, B 3.26 | A 10.51, B 9.25  MB/s
 *   25 ms, 1 %           | A 0.26, B 0.26 | A 0.48, B 0.50 | A 1.09,  B 1.07  MB/s
 *   50 ms, 0 %           |        B 1.11  |        B 3.08  |         B 4.92  MB/s
 *
 * With loss, N connections give about N times one (4.1x at N=4), run after
 * run: each association is held back by its own losses. Without loss the
 * figures at N >= 2 vary a lot between runs (CPU: the relay, wrtc's threads
 * and the senders share two busy cores), but N=4 is 4-4.5x at 25 ms and
 * 4.4x at 50 ms. Each relay has its own loss and no bandwidth cap, so the
 * connections do not compete for one bottleneck as on a real path.
 */
const { Link } = require('../test/faults/link.js')

const KIB = 1024
const MIB = 1024 * KIB
const MESSAGE = 64 * KIB
const HIGH = 4 * MIB
const CONFIG = { iceServers: [] }

function arg (name, fallback) {
  const i = process.argv.indexOf('--' + name)
  return i >= 0 ? process.argv[i + 1] : fallback
}

/** One raw pair through its own relay; resolves with the open channels and a closer. */
async function rawPair (delay, loss, seed) {
  const link = await new Link({ delay, loss, seed }).start()
  const A = link.wrtcFor('a').RTCPeerConnection
  const B = link.wrtcFor('b').RTCPeerConnection
  const a = new A(CONFIG)
  const b = new B(CONFIG)
  const pending = { a: [], b: [] }
  const ready = { a: false, b: false }
  const deliver = (to, pc, c) => { if (ready[to]) pc.addIceCandidate(c).catch(() => {}); else pending[to].push(c) }
  const flush = (to, pc) => { ready[to] = true; for (const c of pending[to]) pc.addIceCandidate(c).catch(() => {}); pending[to] = [] }
  a.onicecandidate = e => { if (e.candidate) deliver('b', b, e.candidate) }
  b.onicecandidate = e => { if (e.candidate) deliver('a', a, e.candidate) }
  const send = a.createDataChannel('stripe', { ordered: true })
  send.binaryType = 'arraybuffer'
  const received = new Promise(resolve => { b.ondatachannel = e => resolve(e.channel) })
  const offer = await a.createOffer()
  await a.setLocalDescription(offer)
  await b.setRemoteDescription({ type: offer.type, sdp: offer.sdp })
  flush('b', b)
  const answer = await b.createAnswer()
  await b.setLocalDescription(answer)
  await a.setRemoteDescription({ type: answer.type, sdp: answer.sdp })
  flush('a', a)
  const recv = await received
  recv.binaryType = 'arraybuffer'
  if (send.readyState !== 'open') await new Promise(resolve => { send.onopen = resolve })
  return { send, recv, link, close () { send.close(); a.close(); b.close(); link.close() } }
}

async function measure (delay, loss, n, seconds, warmup) {
  const pairs = []
  for (let i = 0; i < n; i++) pairs.push(await rawPair(delay, loss, 1000 + 7919 * i))
  let bytes = 0
  let counting = false
  const payload = new Uint8Array(MESSAGE)
  for (const p of pairs) p.recv.onmessage = e => { if (counting) bytes += e.data.byteLength }
  let running = true
  const pump = () => {
    if (!running) return
    for (const p of pairs) {
      while (p.send.readyState === 'open' && p.send.bufferedAmount < HIGH) p.send.send(payload)
    }
    setTimeout(pump, 2)
  }
  pump()
  await new Promise(resolve => setTimeout(resolve, warmup * 1000))
  counting = true
  const t0 = process.hrtime.bigint()
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  counting = false
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
  running = false
  const dropped = pairs.reduce((s, p) => s + p.link.dropped, 0)
  for (const p of pairs) p.close()
  return { mbps: bytes / elapsed / 1e6, dropped }
}

async function main () {
  const seconds = Number(arg('seconds', '10'))
  const warmup = Number(arg('warmup', '3'))
  const ns = arg('n', '1,2,4').split(',').map(Number)
  const links = arg('links', '25/0,25/0.01').split(',').map(s => s.split('/').map(Number))
  const rows = []
  for (const [delay, loss] of links) {
    const row = { delay, loss, results: {} }
    for (const n of ns) {
      const r = await measure(delay, loss, n, seconds, warmup)
      row.results[n] = r.mbps
      console.error(`${delay} ms, ${(loss * 100).toFixed(0)} %, N=${n}: ${r.mbps.toFixed(2)} MB/s (relay dropped ${r.dropped})`)
      await new Promise(resolve => setTimeout(resolve, 500))
    }
    rows.push(row)
  }
  console.log(`| link (one-way, loss) | ${ns.map(n => `N=${n}`).join(' | ')} |`)
  console.log(`|---|${ns.map(() => '---').join('|')}|`)
  for (const r of rows) {
    console.log(`| ${r.delay} ms, ${(r.loss * 100).toFixed(0)} % | ${ns.map(n => `${r.results[n].toFixed(2)} MB/s (${(r.results[n] / r.results[ns[0]]).toFixed(2)}x)`).join(' | ')} |`)
  }
  // @roamhq/wrtc may crash in finalizers on a natural exit.
  process.exit(0)
}

main().catch(err => { console.error(err); process.exit(1) })

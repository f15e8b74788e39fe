'use strict'
// One soak run in its own process: N connect / transfer / destroy cycles,
// `parallel` pairs at a time, with duplex-peer (`ours`) or with bare
// @roamhq/wrtc RTCPeerConnection pairs (`bare`). Prints one JSON line.
const crypto = require('crypto')
const wrtc = require('@roamhq/wrtc')
const Peer = require('../..')

const [mode, cyclesArg, parallelArg] = process.argv.slice(2)
const CYCLES = Number(cyclesArg) || 1000
const PARALLEL = Number(parallelArg) || 10
const PAYLOAD = crypto.randomBytes(64 * 1024)
const DIGEST = crypto.createHash('sha256').update(PAYLOAD).digest('hex')
const config = { iceServers: [] }

function oursCycle () {
  return new Promise((resolve, reject) => {
    const a = new Peer({ initiator: true, config })
    const b = new Peer({ config })
    a.on('signal', s => b.signal(s))
    b.on('signal', s => a.signal(s))
    a.on('error', reject); b.on('error', reject)
    const chunks = []
    let got = 0
    b.on('data', d => {
      chunks.push(d); got += d.length
      if (got === PAYLOAD.length) {
        const ok = crypto.createHash('sha256').update(Buffer.concat(chunks)).digest('hex') === DIGEST
        a.destroy(); b.destroy()
        let closedCount = 0
        const done = () => { if (++closedCount === 2) ok ? resolve() : reject(new Error('corrupt')) }
        a.once('close', done); b.once('close', done)
      }
    })
    a.on('connect', () => a.write(PAYLOAD))
  })
}

function bareCycle () {
  return new Promise((resolve, reject) => {
    const a = new wrtc.RTCPeerConnection(config)
    const b = new wrtc.RTCPeerConnection(config)
    a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate).catch(() => {})
    b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate).catch(() => {})
    const ch = a.createDataChannel('soak')
    b.ondatachannel = e => {
      const chunks = []
      let got = 0
      e.channel.binaryType = 'arraybuffer'
      e.channel.onmessage = m => {
        const d = Buffer.from(m.data)
        chunks.push(d); got += d.length
        if (got === PAYLOAD.length) {
          const ok = crypto.createHash('sha256').update(Buffer.concat(chunks)).digest('hex') === DIGEST
          a.close(); b.close()
          ok ? resolve() : reject(new Error('corrupt'))
        }
      }
    }
    ch.onopen = () => ch.send(PAYLOAD)
    ;(async () => {
      const offer = await a.createOffer(); await a.setLocalDescription(offer); await b.setRemoteDescription(offer)
      const answer = await b.createAnswer(); await b.setLocalDescription(answer); await a.setRemoteDescription(answer)
    })().catch(reject)
  })
}

async function main () {
  const cycle = mode === 'bare' ? bareCycle : oursCycle
  // Warm up, so that one-off allocations of the native library are not counted.
  await Promise.all(Array.from({ length: PARALLEL }, cycle))
  global.gc && global.gc()
  const before = process.memoryUsage().rss
  let done = 0
  const worker = async () => { while (done < CYCLES) { done++; await cycle() } }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  await new Promise(resolve => setTimeout(resolve, 200))
  global.gc && global.gc()
  const after = process.memoryUsage().rss
  const resources = process.getActiveResourcesInfo().filter(r => r !== 'TTYWrap' && r !== 'PipeWrap')
  console.log(JSON.stringify({ mode, cycles: done, before, after, growth: after - before, resources }))
}

main().catch(err => { console.log(JSON.stringify({ mode, error: String(err && err.stack || err) })); process.exitCode = 1 })

'use strict'
// Soak: 1,000 connect / transfer / destroy cycles, 10 pairs at a time, with
// duplex-peer and with bare @roamhq/wrtc pairs, each in a fresh process.
// Run by `npm run test:soak` (and by CI).
const test = require('tape')
const path = require('path')
const { execFile } = require('child_process')

const CYCLES = Number(process.env.SOAK_CYCLES) || 1000

function run (mode) {
  return new Promise(resolve => {
    execFile(process.execPath, ['--expose-gc', path.join(__dirname, 'cycles.js'), mode, String(CYCLES), '10'],
      { timeout: 20 * 60 * 1000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop()
        let result
        try { result = JSON.parse(line) } catch { result = { error: `no result: ${err && err.message} ${stdout} ${String(stderr).slice(-2000)}` } }
        result.exit = err ? `code ${err.code}, signal ${err.signal}` : 'code 0'
        resolve(result)
      })
  })
}

test(`${CYCLES} cycles: nothing of ours left open, memory grows no faster than bare wrtc`, async t => {
  const ours = await run('ours')
  const bare = await run('bare')
  t.notOk(ours.error, `duplex-peer run completed ${ours.error || ''}`)
  t.notOk(bare.error, `bare run completed ${bare.error || ''}`)
  t.equal(ours.cycles, CYCLES, 'all cycles done, every payload SHA-256 checked')
  // @roamhq/wrtc can crash in its finalizers at exit; how a peer uses it decides
  // how often (a control channel opened after `connect` did, nearly always).
  t.equal(ours.exit, 'code 0', `the duplex-peer process ended by itself, normally (bare wrtc: ${bare.exit})`)
  const extra = ours.resources.filter(r => !bare.resources.includes(r))
  t.deepEqual(extra, [], `no handle open beyond what bare wrtc leaves (${JSON.stringify(ours.resources)})`)
  t.notOk(ours.resources.includes('Timeout'), 'no timer left')
  const mb = n => (n / 1048576).toFixed(1)
  t.ok(ours.growth <= bare.growth * 1.1,
    `RSS growth: duplex-peer ${mb(ours.growth)} MB, bare wrtc ${mb(bare.growth)} MB over ${CYCLES} cycles`)
})

'use strict'
// A process whose rooms have left exits by itself, normally: leave() closes
// every connection and stops every timer (liveness, restarts, timeouts), and
// the native finalizers of @roamhq/wrtc do not crash the exit (lib/exit.ts).
// Child processes run test/exit/rooms.js, two at a time.
const test = require('tape')
const path = require('path')
const { execFile } = require('child_process')
const { runMany, tally } = require('./exit/runs')

const FIXTURE = path.join(__dirname, 'exit', 'rooms.js')
const RUNS = Number(process.env.EXIT_RUNS) || 20
const COLLECTED = /duplex-peer:exit exit: collected (\d+) of (\d+) closed connections/

function runOnce (rooms) {
  return new Promise(resolve => {
    execFile(process.execPath, [FIXTURE, String(rooms)], {
      env: { ...process.env, DUPLEX_PEER_SAFE_EXIT: '', DEBUG: 'duplex-peer:exit', DEBUG_COLORS: '0' },
      timeout: 60000
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0
      resolve({ code, signal: err ? err.signal || null : null, stderr: String(stderr) })
    })
  })
}

test(`${RUNS} processes whose 3 rooms met, sent and left end by themselves with status 0`, async t => {
  t.timeoutAfter(5 * 60 * 1000)
  const results = await runMany(RUNS, () => runOnce(3))
  t.deepEqual(tally(results), { 'status 0': RUNS }, 'every run exited normally by itself (no timer or socket held it, no crash)')
  // 3 rooms: 3 pairs, 6 connections, each closed and collected before the exit.
  const collected = results.filter(r => { const m = COLLECTED.exec(r.stderr); return m && m[1] === '6' && m[2] === '6' }).length
  t.equal(collected, RUNS, 'each run closed and collected its 6 connections')
  const failed = results.find(r => r.code !== 0 || r.signal)
  if (failed) t.comment(failed.stderr.slice(-2000))
})

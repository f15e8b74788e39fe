'use strict'
// A process that used peers and then exits by itself must end normally:
// @roamhq/wrtc crashes in its finalizers during Node's cleanup at a natural
// exit (lib/exit.ts). Child processes run test/exit/pairs.js, two at a time.
const test = require('tape')
const path = require('path')
const { execFile } = require('child_process')
const { runMany: runJobs, tally } = require('./exit/runs')

const FIXTURE = path.join(__dirname, 'exit', 'pairs.js')
const RUNS = Number(process.env.EXIT_RUNS) || 50
const COLLECTED = /duplex-peer:exit exit: collected (\d+) of (\d+) closed connections/
const ENDED_EARLY = /duplex-peer:exit exit: \d+ closed connections still referenced: ending the process now/

/** Runs the fixture once; resolves with { code, signal, stderr }. */
function runOnce (args, env = {}) {
  return new Promise(resolve => {
    execFile(process.execPath, [FIXTURE, ...args], {
      env: { ...process.env, DUPLEX_PEER_SAFE_EXIT: '', DEBUG: 'duplex-peer:exit', DEBUG_COLORS: '0', ...env },
      timeout: 60000
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0
      resolve({ code, signal: err ? err.signal || null : null, stderr: String(stderr) })
    })
  })
}

/** Runs the fixture `runs` times, two at a time; resolves with every result. */
function runMany (runs, args, env) {
  return runJobs(runs, () => runOnce(args, env))
}

for (const pairs of [1, 2, 10]) {
  test(`${RUNS} natural exits after ${pairs} pair${pairs > 1 ? 's' : ''} of peers: status 0, no signal, every time`, async t => {
    t.timeoutAfter(5 * 60 * 1000)
    const started = Date.now()
    const results = await runMany(RUNS, [String(pairs)])
    const counts = tally(results)
    t.deepEqual(counts, { 'status 0': RUNS }, `every run exited normally by itself (${JSON.stringify(counts)}, ${((Date.now() - started) / 1000).toFixed(1)} s)`)
    const collectedAll = results.filter(r => {
      const m = COLLECTED.exec(r.stderr)
      return m && m[1] === String(2 * pairs) && m[2] === String(2 * pairs)
    }).length
    t.equal(collectedAll, RUNS, `each run collected its ${2 * pairs} closed connections before the cleanup`)
    t.equal(results.filter(r => ENDED_EARLY.test(r.stderr)).length, 0, 'no run needed to end early')
    const failed = results.find(r => r.code !== 0 || r.signal)
    if (failed) t.comment(failed.stderr.slice(-2000))
  })
}

test(`${RUNS / 2} natural exits after 2 pairs with 4 stripes each (extra connections too): status 0, every connection collected`, async t => {
  t.timeoutAfter(5 * 60 * 1000)
  const results = await runMany(RUNS / 2, ['2', '--stripes', '4'])
  const counts = tally(results)
  t.deepEqual(counts, { 'status 0': RUNS / 2 }, `every run exited normally by itself (${JSON.stringify(counts)})`)
  const collected = results.map(r => COLLECTED.exec(r.stderr)).filter(m => m && m[1] === m[2] && Number(m[2]) > 4)
  t.equal(collected.length, RUNS / 2, 'each run collected all its closed connections, more than the 4 of the peers themselves')
  const failed = results.find(r => r.code !== 0 || r.signal)
  if (failed) t.comment(failed.stderr.slice(-2000))
})

test('closed connections the application still holds: the process ends early, normally', async t => {
  const results = await runMany(20, ['2', '--keep'])
  t.deepEqual(tally(results), { 'status 0': 20 }, 'every run exited with status 0')
  t.equal(results.filter(r => ENDED_EARLY.test(r.stderr)).length, 20, 'each ended at its last `exit` listener, skipping the native finalizers')
})

test('exit codes are kept: process.exitCode, process.exit(), an `exit` listener', async t => {
  const cases = [
    [['2', '--exit-code', '3'], 3, 'process.exitCode = 3'],
    [['2', '--exit', '5'], 5, 'process.exit(5)'],
    [['2', '--listener', '7'], 7, 'an `exit` listener setting process.exitCode = 7'],
    [['2', '--keep', '--exit-code', '3'], 3, 'process.exitCode = 3, ending early'],
    [['2', '--keep', '--exit', '5'], 5, 'process.exit(5), connections held'],
    [['2', '--keep', '--listener', '7'], 7, 'an `exit` listener setting process.exitCode = 7, ending early']
  ]
  for (const [args, expected, name] of cases) {
    const results = await runMany(4, args)
    t.deepEqual(tally(results), { [`status ${expected}`]: 4 }, `${name}: status ${expected}`)
  }
})

test('DUPLEX_PEER_SAFE_EXIT=0 turns it off', async t => {
  // With it off the children may well crash: only what was done is checked.
  const results = await runMany(6, ['2'], { DUPLEX_PEER_SAFE_EXIT: '0' })
  t.equal(results.filter(r => COLLECTED.test(r.stderr)).length, 0, 'no collection at exit')
  const held = await runMany(6, ['2', '--keep'], { DUPLEX_PEER_SAFE_EXIT: '0' })
  t.equal(held.filter(r => ENDED_EARLY.test(r.stderr)).length, 0, 'no early end')
  t.comment(`with it off: ${JSON.stringify(tally(results.concat(held)))}`)
})

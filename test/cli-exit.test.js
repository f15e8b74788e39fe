'use strict'
// The CLI's commands end by letting Node exit by itself once their peers have
// closed (lib/cli/exit.ts), which is where @roamhq/wrtc crashes in its
// finalizers unless lib/exit.ts makes the exit safe. Each command must end
// with its own status and no signal, every time.
const test = require('tape')
const fs = require('fs')
const os = require('os')
const path = require('path')
const crypto = require('crypto')
const { spawn } = require('child_process')
const { runMany, tally } = require('./exit/runs')

const BIN = path.join(__dirname, '..', 'bin', 'duplex-peer.js')
const RUNS = Number(process.env.EXIT_RUNS) || 50

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-cli-exit-'))
test.onFinish(() => fs.rmSync(dir, { recursive: true, force: true }))

/** Runs the CLI; `done` resolves with { code, signal, stderr } once it exits. */
function run (args, { onStderr } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, DUPLEX_PEER_SAFE_EXIT: '' }
  })
  let stderr = ''
  child.stderr.on('data', d => {
    stderr += d
    if (onStderr) onStderr(stderr)
  })
  const done = new Promise(resolve => child.on('close', (code, signal) => resolve({ code, signal, stderr })))
  return { child, done }
}

/** Starts `duplex-peer server` on a free loopback port; resolves with its URL and `stop()`. */
function serve () {
  const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const closed = new Promise(resolve => child.once('close', (code, signal) => resolve({ code, signal })))
  return new Promise((resolve, reject) => {
    let text = ''
    child.stdout.on('data', d => {
      text += d
      const match = /listening on port (\d+)/.exec(text)
      if (match) resolve({ url: `http://127.0.0.1:${match[1]}/`, stop: () => { child.kill('SIGTERM'); return closed } })
    })
    closed.then(r => reject(new Error(`server exited (${r.code}, ${r.signal}) before listening`)))
  })
}

test(`${RUNS} transfers with send and receive: both processes exit by themselves with status 0, every time`, async t => {
  t.timeoutAfter(10 * 60 * 1000)
  const server = await serve()
  const input = path.join(dir, 'input.bin')
  const content = crypto.randomBytes(256 * 1024 + 3)
  fs.writeFileSync(input, content)
  const digest = crypto.createHash('sha256').update(content).digest('hex')
  const results = await runMany(RUNS, async i => {
    const id = `exit-receiver-${i}`
    const output = path.join(dir, `output-${i}.bin`)
    let ready
    const waiting = new Promise(resolve => { ready = resolve })
    const receiver = run(['receive', '--id', id, '--out', output, '--server', server.url, '--no-stun', '--quiet'], {
      onStderr: text => { if (/Waiting for a sender/.test(text)) ready() }
    })
    await Promise.race([waiting, receiver.done])
    const sender = run(['send', input, '--to', id, '--server', server.url, '--no-stun', '--quiet'])
    const [sent, received] = await Promise.all([sender.done, receiver.done])
    const intact = fs.existsSync(output) && crypto.createHash('sha256').update(fs.readFileSync(output)).digest('hex') === digest
    fs.rmSync(output, { force: true })
    return { sent, received, intact }
  })
  const counts = tally(results.flatMap(r => [r.sent, r.received]))
  t.deepEqual(counts, { 'status 0': 2 * RUNS }, `every send and receive exited normally (${JSON.stringify(counts)})`)
  t.equal(results.filter(r => r.intact).length, RUNS, 'every file arrived intact (SHA-256)')
  const failed = results.find(r => r.sent.code !== 0 || r.received.code !== 0)
  if (failed) t.comment(`send: ${failed.sent.stderr.slice(-1500)}\nreceive: ${failed.received.stderr.slice(-1500)}`)
  const stopped = await server.stop()
  t.deepEqual(stopped, { code: 0, signal: null }, 'the server exits with status 0 on SIGTERM')
})

test(`${RUNS} sends to an absent peer: each exits by itself with status 4 (peer unavailable), never a signal`, async t => {
  t.timeoutAfter(10 * 60 * 1000)
  const server = await serve()
  const input = path.join(dir, 'small.bin')
  fs.writeFileSync(input, 'x')
  const results = await runMany(RUNS, i => run(['send', input, '--to', `nobody-${i}`, '--server', server.url, '--no-stun', '--quiet']).done)
  t.deepEqual(tally(results), { 'status 4': RUNS }, `every run exited with status 4 (${JSON.stringify(tally(results))})`)
  await server.stop()
})

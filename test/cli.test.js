'use strict'
// The CLI, as separate processes on loopback: `server`, `receive` and `send`.
const test = require('tape')
const fs = require('fs')
const os = require('os')
const net = require('net')
const path = require('path')
const crypto = require('crypto')
const { spawn } = require('child_process')

const BIN = path.join(__dirname, '..', 'bin', 'duplex-peer.js')

/** Runs the CLI; resolves with { code, stdout, stderr } once it exits. `onStderr` sees stderr as it comes. */
function run (args, { onStderr, stdout, env } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', stdout || 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env })
  let out = ''
  let err = ''
  if (child.stdout) child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => {
    err += d
    if (onStderr) onStderr(err)
  })
  const done = new Promise(resolve => child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err })))
  return { child, done }
}

/** Starts `server` on a free port; resolves with { port, stop() } (stop resolves with the exit code). */
function serve (extra = []) {
  const server = run(['server', '--port', '0', '--host', '127.0.0.1', ...extra])
  return new Promise((resolve, reject) => {
    let text = ''
    server.child.stdout.on('data', d => {
      text += d
      const match = /listening on port (\d+)/.exec(text)
      if (match) {
        resolve({
          port: Number(match[1]),
          url: `http://127.0.0.1:${match[1]}/`,
          stop: () => { server.child.kill('SIGTERM'); return server.done.then(r => r.code) }
        })
      }
    })
    server.done.then(r => reject(new Error(`serve exited: ${r.stderr}`)))
  })
}

/** Resolves once `text` appears in a process's stderr. */
function waitFor (pattern) {
  let resolve
  const seen = new Promise(r => { resolve = r })
  return { seen, onStderr: text => { if (pattern.test(text)) resolve() } }
}

const tmpDirs = []
test.onFinish(() => { for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true }) })

function tmpFile (name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-cli-'))
  tmpDirs.push(dir)
  return path.join(dir, name)
}

function sha256File (file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

function freePort () {
  return new Promise(resolve => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = s.address().port
      s.close(() => resolve(port))
    })
  })
}

test('receive waits under an id, send --to it: the file arrives intact, with progress and SHA-256', async t => {
  const server = await serve()
  const input = tmpFile('input.bin')
  fs.writeFileSync(input, crypto.randomBytes(3 * 1024 * 1024 + 17))
  const output = tmpFile('output.bin')
  const waiting = waitFor(/Waiting for a sender/)
  const receiver = run(['receive', '--id', 'cli-receiver', '--server', server.url, '--no-stun'], { onStderr: waiting.onStderr, stdout: fs.openSync(output, 'w') })
  await waiting.seen
  const sender = run(['send', input, '--to', 'cli-receiver', '--server', server.url, '--no-stun'])
  const [sent, received] = await Promise.all([sender.done, receiver.done])
  t.equal(sent.code, 0, 'send exits 0')
  t.equal(received.code, 0, 'receive exits 0')
  t.equal(sha256File(output), sha256File(input), 'the file arrived intact (> FILE)')
  for (const [name, result] of [['sender', sent], ['receiver', received]]) {
    t.match(result.stderr, /\[#+\] 100\.0%/, `${name}: progress bar`)
    t.match(result.stderr, /\d+(\.\d)? [KMG]?i?B\/s/, `${name}: rate`)
    t.match(result.stderr, /ETA/, `${name}: ETA`)
  }
  t.match(received.stderr, new RegExp(`SHA-256 ${sha256File(input)} verified`), 'receiver checked the SHA-256')
  t.match(sent.stderr, /confirmed by the receiver/, 'sender got the confirmation')
  t.equal(await server.stop(), 0, 'server stops cleanly on SIGTERM')
})

test('send waits under an id, receive --from it, to --out FILE', async t => {
  const server = await serve()
  const input = tmpFile('small.txt')
  fs.writeFileSync(input, 'hello over WebRTC\n'.repeat(1000))
  const output = tmpFile('copy.txt')
  const waiting = waitFor(/Waiting for a receiver/)
  const sender = run(['send', input, '--id', 'cli-sender', '--server', server.url, '--no-stun'], { onStderr: waiting.onStderr })
  await waiting.seen
  const receiver = run(['receive', '--from', 'cli-sender', '--out', output, '--server', server.url, '--no-stun'])
  const [sent, received] = await Promise.all([sender.done, receiver.done])
  t.deepEqual([sent.code, received.code], [0, 0], 'both exit 0')
  if (received.code !== 0) t.comment(`receive: signal ${received.signal}\n${received.stderr}`)
  if (sent.code !== 0) t.comment(`send: signal ${sent.signal}\n${sent.stderr}`)
  t.equal(fs.readFileSync(output, 'utf8'), fs.readFileSync(input, 'utf8'), 'same content')
  await server.stop()
})

test('send and receive --stripes 4: the stripes are agreed and the file arrives intact', async t => {
  const server = await serve()
  const input = tmpFile('striped.bin')
  fs.writeFileSync(input, crypto.randomBytes(8 * 1024 * 1024 + 5))
  const output = tmpFile('striped-copy.bin')
  // The engine's debug lines (stderr) tell what the two sides agreed.
  const env = { DEBUG: 'duplex-peer' }
  const waiting = waitFor(/Waiting for a sender/)
  const receiver = run(['receive', '--id', 'cli-striped', '--out', output, '--stripes', '4', '--server', server.url, '--no-stun'], { onStderr: waiting.onStderr, env })
  await waiting.seen
  const sender = run(['send', input, '--to', 'cli-striped', '--stripes', '4', '--server', server.url, '--no-stun'], { env })
  const [sent, received] = await Promise.all([sender.done, receiver.done])
  t.deepEqual([sent.code, received.code], [0, 0], 'both exit 0')
  if (received.code !== 0) t.comment(`receive: signal ${received.signal}\n${received.stderr.slice(-4000)}`)
  if (sent.code !== 0) t.comment(`send: signal ${sent.signal}\n${sent.stderr.slice(-4000)}`)
  t.equal(sha256File(output), sha256File(input), 'the file arrived intact')
  t.match(sent.stderr, /stripes: up to 4 connections/, 'sender: 4 stripes agreed')
  t.match(received.stderr, /stripes: up to 4 connections/, 'receiver: 4 stripes agreed')
  // How many stripes opened before the end depends on timing: shown, not asserted.
  t.comment(`stripes opened on the sender's side: ${(sent.stderr.match(/stripe \d+ open/g) || []).length}`)
  t.match(received.stderr, /SHA-256 [0-9a-f]{64} verified/, 'receiver checked the SHA-256')
  await server.stop()
})

test('--stripes takes 1 to 8 or auto: anything else is a usage error', async t => {
  const input = tmpFile('s.bin')
  fs.writeFileSync(input, 's')
  const closed = `http://127.0.0.1:${await freePort()}/`
  for (const bad of ['0', '9', '2.5', '-1', 'many', '', '4x']) {
    const send = await run(['send', input, '--to', 'x', `--stripes=${bad}`, '--server', closed]).done
    t.equal(send.code, 2, `send --stripes ${JSON.stringify(bad)}: exit 2`)
    t.match(send.stderr, /^duplex-peer: Invalid --stripes .*: a number of connections from 1 to 8, or auto/, `send --stripes ${JSON.stringify(bad)}: says so`)
  }
  const receive = await run(['receive', '--stripes', '16', '--out', tmpFile('r.bin'), '--server', closed]).done
  t.equal(receive.code, 2, 'receive --stripes 16: exit 2')
  t.match(receive.stderr, /Invalid --stripes "16"/, 'receive --stripes 16: says so')
  const missing = await run(['send', input, '--stripes']).done
  t.equal(missing.code, 2, '--stripes without a value: exit 2')
  // A good value gets as far as the (closed) server: exit 3, not 2.
  for (const good of ['1', '8', 'auto']) {
    const result = await run(['send', input, '--to', 'x', '--stripes', good, '--server', closed]).done
    t.equal(result.code, 3, `send --stripes ${good}: accepted (fails later, at the closed server)`)
  }
})

test('clear failures: peer not there, server unreachable, id taken, missing file', async t => {
  const server = await serve(['--expire-timeout', '300'])
  const input = tmpFile('x.bin')
  fs.writeFileSync(input, 'x')

  const absent = await run(['send', input, '--to', 'nobody-home', '--server', server.url, '--no-stun']).done
  t.equal(absent.code, 4, 'peer unavailable: exit 4')
  t.match(absent.stderr, /Peer "nobody-home" is not connected to the signaling server/, 'says so')

  const waiting = waitFor(/Waiting for a sender/)
  const holder = run(['receive', '--id', 'taken-id', '--server', server.url, '--no-stun'], { onStderr: waiting.onStderr, stdout: 'ignore' })
  await waiting.seen
  const twin = await run(['receive', '--id', 'taken-id', '--server', server.url, '--no-stun'], { stdout: 'ignore' }).done
  t.equal(twin.code, 3, 'id taken: exit 3')
  t.match(twin.stderr, /already in use/, 'says so')
  holder.child.kill()
  await holder.done
  await server.stop()

  const closed = `http://127.0.0.1:${await freePort()}/`
  const noServer = await run(['send', input, '--to', 'someone', '--server', closed]).done
  t.equal(noServer.code, 3, 'server unreachable: exit 3')
  t.match(noServer.stderr, /Cannot use the signaling server at .*ECONNREFUSED/, 'says so')
  const noServerWithId = await run(['receive', '--id', 'me', '--server', closed], { stdout: 'ignore' }).done
  t.equal(noServerWithId.code, 3, 'server unreachable with a chosen id: exit 3')
  t.match(noServerWithId.stderr, /Could not connect to the server/, 'says so')

  const missing = await run(['send', path.join(os.tmpdir(), 'does-not-exist.bin'), '--to', 'x']).done
  t.equal(missing.code, 2, 'missing file: exit 2')
  t.match(missing.stderr, /no such file/, 'says so')
  const usage = await run(['frobnicate']).done
  t.equal(usage.code, 2, 'unknown command: exit 2')
})

test('help: the general usage, and each command\'s (as COMMAND --help)', async t => {
  const general = await run(['help']).done
  t.equal(general.code, 0, 'help: exit 0')
  for (const command of ['server', 'receive', 'send', 'help']) {
    t.match(general.stdout, new RegExp(`^  duplex-peer ${command} `, 'm'), `help: lists ${command}`)
  }
  t.match(general.stdout, /^Exit status:/m, 'help: the exit statuses')
  t.equal(general.stderr, '', 'help: nothing on stderr')
  const flag = await run(['--help']).done
  t.deepEqual([flag.code, flag.stdout], [0, general.stdout], '--help prints the same')

  const expected = {
    send: [/^  duplex-peer send FILE /m, /--to ID/, /--no-stun/, /--stripes N\|auto/, /-q, --quiet/],
    receive: [/^  duplex-peer receive /m, /--from ID/, /--out FILE/, /--no-stun/, /--stripes N\|auto/],
    server: [/^  duplex-peer server /m, /--port PORT/, /--allow-discovery/, /--expire-timeout MS/]
  }
  for (const [command, patterns] of Object.entries(expected)) {
    const result = await run(['help', command]).done
    t.equal(result.code, 0, `help ${command}: exit 0`)
    for (const pattern of patterns) t.match(result.stdout, pattern, `help ${command}: ${pattern}`)
    for (const other of Object.keys(expected).filter(c => c !== command)) {
      t.doesNotMatch(result.stdout, new RegExp(`^  duplex-peer ${other} `, 'm'), `help ${command}: not ${other}'s usage`)
    }
    const flagged = await run([command, '--help']).done
    t.deepEqual([flagged.code, flagged.stdout], [0, result.stdout], `${command} --help prints the same as help ${command}`)
  }
  const alias = await run(['help', 'serve']).done
  t.deepEqual([alias.code, alias.stdout], [0, (await run(['help', 'server']).done).stdout], 'help serve: the server\'s usage')
  const sendHelp = await run(['send', '--help']).done
  t.equal(sendHelp.code, 0, 'send --help: exit 0 (no FILE needed)')
  t.match(sendHelp.stdout, /^Usage:\n  duplex-peer send FILE /, 'send --help: send\'s usage')
})

test('help with an unknown command: a usage error', async t => {
  const bogus = await run(['help', 'bogus']).done
  t.equal(bogus.code, 2, 'help bogus: exit 2')
  t.match(bogus.stderr, /^duplex-peer: help: unknown command "bogus" \(the commands are server, receive, send, room, help\)/, 'help bogus: says so, with the commands')
  t.equal(bogus.stdout, '', 'help bogus: nothing on stdout')
  const two = await run(['help', 'send', 'receive']).done
  t.equal(two.code, 2, 'help with two commands: exit 2')
  const inherited = await run(['constructor']).done
  t.equal(inherited.code, 2, 'a name every object has is no command either: exit 2')
})

test('layers: the library does not import the CLI', t => {
  const root = path.join(__dirname, '..')
  const sources = ['index.ts', 'server.ts', 'peerjs.ts']
  const walk = dir => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) { if (file !== path.join('lib', 'cli')) walk(file) } else if (entry.name.endsWith('.ts')) sources.push(file)
    }
  }
  walk('lib')
  const offenders = sources.filter(file => /\bfrom\s+['"][^'"]*\bcli\b|require\(\s*['"][^'"]*\bcli\b/.test(fs.readFileSync(path.join(root, file), 'utf8')))
  t.ok(sources.length > 20, `${sources.length} library sources checked`)
  t.deepEqual(offenders, [], 'none imports lib/cli')
  t.end()
})

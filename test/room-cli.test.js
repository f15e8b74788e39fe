'use strict'
// The pieces of `duplex-peer room` and `duplex-peer server --demo` that need
// no browser: safe names for received files, never overwriting; the relay
// URL from --server; the demo page's request handler; and the command's
// usage and connection errors.
const fs = require('fs')
const os = require('os')
const http = require('http')
const path = require('path')
const net = require('net')
const test = require('tape')
const { spawn } = require('child_process')
const { safeFileName, receiveFile, relayUrl } = require('../dist/lib/cli/room')
const { Readable } = require('stream')
const { demoHandler } = require('../dist/lib/cli/demo')

const BIN = path.join(__dirname, '..', 'bin', 'duplex-peer.js')

test('room CLI: a received file gets a safe name in the current directory', t => {
  const cases = {
    'photo.jpg': 'photo.jpg',
    '../../etc/passwd': 'passwd',
    '..\\..\\boot.ini': 'boot.ini',
    '.bashrc': 'bashrc',
    '...': 'file',
    '': 'file',
    'a\u0000b\u001b[2Jc.txt': 'a_b_[2Jc.txt',
    'what?<>:"|*.txt': 'what_______.txt',
    'été.txt': 'été.txt'
  }
  for (const [given, expected] of Object.entries(cases)) t.equal(safeFileName(given), expected, `${JSON.stringify(given)} → ${JSON.stringify(expected)}`)
  t.ok(Buffer.byteLength(safeFileName('é'.repeat(300))) <= 200, 'a long name is cut to 200 bytes, on a character boundary')
  t.equal(safeFileName('é'.repeat(300)), 'é'.repeat(100), 'whole characters only')
  t.end()
})

test('room CLI: receiveFile never overwrites (name, name-1, name-2) and leaves nothing of a failed transfer', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-save-'))
  const save = (name, text) => receiveFile(dir, name, Readable.from([Buffer.from(text)])).then(r => r.path)
  try {
    const paths = []
    for (const text of ['one', 'two', 'three']) paths.push(await save('notes.txt', text))
    t.deepEqual(paths.map(p => path.basename(p)), ['notes.txt', 'notes-1.txt', 'notes-2.txt'], 'suffixes before the extension')
    t.deepEqual(paths.map(p => fs.readFileSync(p, 'utf8')), ['one', 'two', 'three'], 'each file has its own bytes')
    t.equal(path.basename(await save('README', 'x')), 'README', 'a name without extension')
    t.equal(path.basename(await save('README', 'y')), 'README-1', 'and its suffix')
    t.equal(path.dirname(await save('../escape.txt', 'z')), dir, 'never outside the directory')
    const big = Buffer.alloc(3 * 1024 * 1024, 7)
    const result = await receiveFile(dir, 'big.bin', Readable.from([big.subarray(0, 1e6), big.subarray(1e6)]))
    t.equal(result.size, big.length, 'the size of what was written is counted')
    t.ok(fs.readFileSync(result.path).equals(big), 'written in pieces, intact')
    const failing = new Readable({ read () { this.push(Buffer.from('part')); this.destroy(Object.assign(new Error('aborted'), { code: 'ERR_TRANSFER_ABORTED' })) } })
    const err = await receiveFile(dir, 'broken.bin', failing).then(() => null, e => e)
    t.equal(err && err.code, 'ERR_TRANSFER_ABORTED', 'a failed transfer rejects with its error')
    t.notOk(fs.existsSync(path.join(dir, 'broken.bin')), 'and leaves no partial file')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('room CLI: --server gives the relay URL', t => {
  t.equal(relayUrl('http://localhost:9000/'), 'ws://localhost:9000/rooms', 'http: → ws:, {path}/rooms')
  t.equal(relayUrl('https://example.com/app/?key=x'), 'wss://example.com/app/rooms', 'https: → wss:, under the path, without the query')
  t.equal(relayUrl('ws://127.0.0.1:9000/rooms'), 'ws://127.0.0.1:9000/rooms', 'a relay URL as it is')
  for (const bad of ['localhost:9000', 'ftp://host/', 'not a url']) {
    try {
      relayUrl(bad)
      t.fail(`${bad} accepted`)
    } catch (err) {
      t.equal(err.code, 2, `${JSON.stringify(bad)}: a usage error`)
    }
  }
  t.end()
})

test('server --demo: the page, its script and the browser build under {path}demo/, nothing else', async t => {
  const handler = demoHandler('/')
  const server = http.createServer((req, res) => {
    handler(req, res)
    if (!res.writableEnded) res.writeHead(418).end()
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  const get = (p, method = 'GET') => new Promise((resolve, reject) => {
    http.request(`${base}${p}`, { method }, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    }).on('error', reject).end()
  })
  try {
    const page = await get('/demo/')
    t.equal(page.status, 200, '/demo/: 200')
    t.ok(/text\/html/.test(page.headers['content-type']) && /<script type="module" src="app.js">/.test(page.body), 'the page, loading app.js as a module')
    t.ok(/default-src 'self'/.test(page.headers['content-security-policy']), 'with a content security policy')
    const app = await get('/demo/app.js')
    t.ok(app.status === 200 && /from '\.\/room\.mjs'/.test(app.body), 'app.js imports ./room.mjs')
    const build = await get('/demo/room.mjs')
    t.equal(build.body, fs.readFileSync(path.join(__dirname, '..', 'dist', 'browser', 'room.mjs'), 'utf8'), 'room.mjs is the browser build')
    t.equal((await get('/demo')).headers.location, '/demo/', '/demo redirects to /demo/')
    t.equal((await get('/demo/room.mjs', 'HEAD')).body, '', 'HEAD: no body')
    t.equal((await get('/demo/package.json')).status, 404, 'another name under demo/: 404')
    t.equal((await get('/demo/%2e%2e/package.json')).status, 418, 'an escape from demo/ is not served by it')
    t.equal((await get('/demo/app.js', 'POST')).status, 404, 'POST: 404')
    t.equal((await get('/other')).status, 418, 'other paths are left to the next listener')
  } finally {
    await new Promise(resolve => server.close(resolve))
  }
})

/** Runs the CLI; resolves with its exit code and output. */
function run (args) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    child.on('exit', code => resolve({ code, stdout, stderr }))
  })
}

test('room CLI: usage errors exit with 2; a server that does not answer, with 3', async t => {
  t.timeoutAfter(60e3)
  const none = await run(['room'])
  t.equal(none.code, 2, 'no ROOM: exit 2')
  t.ok(/room needs one ROOM/.test(none.stderr), 'says so')
  const bad = await run(['room', '--server', 'ftp://x/', 'lobby'])
  t.equal(bad.code, 2, 'an ftp: server: exit 2')
  // A port nobody listens on.
  const port = await new Promise(resolve => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
  const down = await run(['room', '--server', `http://127.0.0.1:${port}/`, '--name', 'x', 'lobby'])
  t.equal(down.code, 3, 'nothing listening: exit 3')
  t.ok(/Cannot join room lobby at ws:\/\/127\.0\.0\.1:\d+\/rooms: no answer from the relay/.test(down.stderr), 'says the relay did not answer')
  const help = await run(['room', '--help'])
  t.ok(help.code === 0 && /\/send FILE/.test(help.stdout) && /--name NAME/.test(help.stdout), 'room --help: its usage')
})

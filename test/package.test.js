'use strict'
// Package hygiene: the tarball `npm pack` makes, installed into a scratch
// project (from the npm cache where it can: the registry is asked only for
// what the cache lacks), works with require(), with import,
// under bundlers (browser and Node), and for TypeScript consumers compiling
// against the shipped types. publint and attw find no problem with it.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { execFile } = require('child_process')
const test = require('tape')

const root = path.join(__dirname, '..')
const TIMEOUT = 300e3
let dir = null
let tarball = null
let consumer = null

/** Runs a command; resolves with its output, rejects with it (and the exit code) on failure. */
function run (file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...options, env: { ...process.env, ...options.env } }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${file} ${args.join(' ')} failed (${err.code}):\n${stdout}\n${stderr}`
        return reject(err)
      }
      resolve({ stdout, stderr })
    })
  })
}

const npm = (args, options) => run('npm', args, options)
const node = (args, options) => run(process.execPath, args, { cwd: consumer, ...options })
const bin = name => path.join(root, 'node_modules', '.bin', name)

test('package: npm pack', async t => {
  t.timeoutAfter(TIMEOUT)
  for (const file of ['dist/index.js', 'dist/index.mjs', 'dist/browser/duplex-peer.mjs', 'dist/duplex-peer.min.js']) {
    if (!fs.existsSync(path.join(root, file))) return t.fail(`${file} is missing: run npm run build first`)
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-pack-'))
  // The build is done (pretest): no need for `prepare` to run it again.
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root })
  const [info] = JSON.parse(stdout)
  tarball = path.join(dir, info.filename)
  const files = info.files.map(f => f.path)
  for (const file of [
    'package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.mjs', 'dist/index.d.mts',
    'dist/lib/peer.js', 'dist/lib/peer.d.ts', 'dist/lib/node-webrtc.browser.js',
    'dist/browser/duplex-peer.mjs', 'dist/browser/duplex-peer.cjs', 'dist/duplex-peer.min.js',
    'dist/server.js', 'dist/server.d.ts', 'dist/peerjs.js', 'dist/peerjs.d.ts', 'dist/browser/peerjs.cjs', 'dist/room.js', 'dist/room.d.ts',
    'dist/browser/room.mjs', 'dist/browser/room.cjs', 'demo/room/index.html', 'demo/room/app.js',
    'bin/duplex-peer.js', 'dist/lib/cli/main.js'
  ]) t.ok(files.includes(file), `ships ${file}`)
  const stray = files.filter(f => !/^(package\.json|README\.md|LICENSE|bin\/duplex-peer\.js|(server|peerjs|room)\/package\.json|demo\/room\/(index\.html|app\.js)|dist\/.*)$/.test(f) || /\.test\.js$|\.ts$(?<!\.d\.ts)(?<!\.d\.mts)/.test(f))
  t.deepEqual(stray, [], 'nothing else: no sources, tests or scripts')
  t.comment(`${info.filename}: ${info.files.length} files, ${info.size} bytes packed, ${info.unpackedSize} unpacked`)
})

test('package: install the tarball into a scratch project', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!tarball) return t.fail('no tarball')
  consumer = path.join(dir, 'consumer')
  fs.mkdirSync(consumer)
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
  // Nothing else: the types the shipped declarations need (@types/readable-stream, which brings
  // @types/node) come with the package.
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: consumer })
  const pkg = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'duplex-peer', 'package.json'), 'utf8'))
  t.equal(pkg.name, 'duplex-peer', 'installed')
})

test('package: require() returns the constructor', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!consumer) return t.fail('not installed')
  const { stdout } = await node(['-e', `
    const Peer = require('duplex-peer')
    const version = require('duplex-peer/package.json').version
    const peer = new Peer({ initiator: true, config: { iceServers: [] } })
    peer.once('signal', signal => {
      console.log(JSON.stringify({ type: typeof Peer, file: require.resolve('duplex-peer'), version, support: Peer.WEBRTC_SUPPORT, signal: signal.type }))
      peer.destroy()
    })
  `])
  const result = JSON.parse(stdout)
  t.equal(result.type, 'function', 'a function')
  t.ok(result.file.endsWith(path.join('duplex-peer', 'dist', 'index.js')), 'from dist/index.js')
  t.equal(result.version, JSON.parse(fs.readFileSync(path.join(root, 'package.json'))).version, 'duplex-peer/package.json is exported')
  t.equal(result.support, true, 'WEBRTC_SUPPORT (wrtc loads)')
  t.equal(result.signal, 'offer', 'a peer makes an offer')
})

test('package: import gives the same constructor', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!consumer) return t.fail('not installed')
  const { stdout } = await node(['--input-type=module', '-e', `
    import Peer from 'duplex-peer'
    import { createRequire } from 'node:module'
    const require = createRequire(import.meta.url)
    const peer = new Peer({ initiator: true, config: { iceServers: [] } })
    peer.once('signal', signal => {
      console.log(JSON.stringify({ type: typeof Peer, same: Peer === require('duplex-peer'), file: import.meta.resolve('duplex-peer'), signal: signal.type }))
      peer.destroy()
    })
  `])
  const result = JSON.parse(stdout)
  t.equal(result.type, 'function', 'default export is a function')
  t.equal(result.same, true, 'the same constructor as require() (no dual package)')
  t.ok(result.file.endsWith('/duplex-peer/dist/index.mjs'), 'from dist/index.mjs')
  t.equal(result.signal, 'offer', 'a peer makes an offer')
})

test('package: duplex-peer/server, duplex-peer/peerjs, duplex-peer/room and the duplex-peer command', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!consumer) return t.fail('not installed')
  const { stdout } = await node(['-e', `
    const { PeerServer } = require('duplex-peer/server')
    const { Peer, DataConnection } = require('duplex-peer/peerjs')
    const { Room, MemoryDriver } = require('duplex-peer/room')
    console.log(JSON.stringify([typeof PeerServer, typeof Peer, typeof DataConnection, typeof Room, typeof MemoryDriver]))
  `])
  t.deepEqual(JSON.parse(stdout), ['function', 'function', 'function', 'function', 'function'], 'require() of the subpaths')
  const { stdout: esm } = await node(['--input-type=module', '-e', `
    import { PeerServer } from 'duplex-peer/server'
    import { Peer } from 'duplex-peer/peerjs'
    import { Room } from 'duplex-peer/room'
    console.log(JSON.stringify([typeof PeerServer, typeof Peer, typeof Room]))
  `])
  t.deepEqual(JSON.parse(esm), ['function', 'function', 'function'], 'named imports of the subpaths')
  const { stdout: browser } = await node(['--conditions=browser', '-p', "require.resolve('duplex-peer/peerjs')"])
  t.ok(browser.trim().endsWith(path.join('dist', 'browser', 'peerjs.cjs')), 'browser: duplex-peer/peerjs → dist/browser/peerjs.cjs')
  const { stdout: version } = await run(path.join(consumer, 'node_modules', '.bin', 'duplex-peer'), ['--version'], { cwd: consumer })
  t.equal(version.trim(), JSON.parse(fs.readFileSync(path.join(root, 'package.json'))).version, 'npx duplex-peer --version')
  const { stdout: usage } = await run(path.join(consumer, 'node_modules', '.bin', 'duplex-peer'), ['help', 'send'], { cwd: consumer })
  t.match(usage, /^Usage:\n  duplex-peer send FILE /, 'npx duplex-peer help send')
})

test('package: the "browser" condition resolves to the self-contained builds', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!consumer) return t.fail('not installed')
  const { stdout: cjs } = await node(['--conditions=browser', '-p', "require.resolve('duplex-peer')"])
  t.ok(cjs.trim().endsWith(path.join('dist', 'browser', 'duplex-peer.cjs')), 'require → dist/browser/duplex-peer.cjs')
  const { stdout: esm } = await node(['--conditions=browser', '--input-type=module', '-e', "console.log(import.meta.resolve('duplex-peer'))"])
  t.ok(esm.trim().endsWith('/dist/browser/duplex-peer.mjs'), 'import → dist/browser/duplex-peer.mjs')
  const { stdout: roomCjs } = await node(['--conditions=browser', '-p', "require.resolve('duplex-peer/room')"])
  t.ok(roomCjs.trim().endsWith(path.join('dist', 'browser', 'room.cjs')), 'duplex-peer/room: require → dist/browser/room.cjs')
  const { stdout: roomEsm } = await node(['--conditions=browser', '--input-type=module', '-e', "console.log(import.meta.resolve('duplex-peer/room'))"])
  t.ok(roomEsm.trim().endsWith('/dist/browser/room.mjs'), 'duplex-peer/room: import → dist/browser/room.mjs')
})

test('package: bundlers (esbuild) — browser bundles without wrtc or Node built-ins; Node bundles keep wrtc external', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!consumer) return t.fail('not installed')
  const esbuild = require('esbuild')
  fs.writeFileSync(path.join(consumer, 'app.mjs'), "import Peer from 'duplex-peer'\nexport const ok = typeof Peer === 'function'\n")
  fs.writeFileSync(path.join(consumer, 'app.cjs'), "const Peer = require('duplex-peer')\nmodule.exports = typeof Peer === 'function'\n")
  for (const entry of ['app.mjs', 'app.cjs']) {
    // No polyfills, no externals: anything Node-only would fail to resolve.
    const result = await esbuild.build({ absWorkingDir: consumer, entryPoints: [entry], bundle: true, platform: 'browser', write: false, metafile: true, logLevel: 'silent' })
    const inputs = Object.keys(result.metafile.inputs)
    const fromPackage = inputs.filter(i => i.includes('node_modules/duplex-peer/'))
    t.deepEqual(fromPackage, [`node_modules/duplex-peer/dist/browser/duplex-peer.${entry === 'app.mjs' ? 'mjs' : 'cjs'}`], `${entry}, browser: the self-contained build`)
    t.notOk(inputs.some(i => i.includes('wrtc')), `${entry}, browser: no wrtc`)
  }
  const forNode = await esbuild.build({ absWorkingDir: consumer, entryPoints: ['app.mjs'], bundle: true, platform: 'node', packages: 'external', write: false, metafile: true, logLevel: 'silent' })
  t.ok(forNode.outputFiles[0].text.includes('duplex-peer'), 'Node: duplex-peer stays a package import')
})

test('package: TypeScript consumers compile against the shipped types', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!consumer) return t.fail('not installed')
  const usage = `
const options: Peer.Options = { initiator: true, config: { iceServers: [] }, trickle: false, objectMode: true }
const peer: Peer = new Peer(options)
peer.on('signal', (data: Peer.Signal) => { console.log(JSON.stringify(data)) })
peer.on('connect', () => { peer.send('hello'); peer.write(new Uint8Array(4)) })
peer.on('data', (data: Buffer | string) => { console.log(data.length) })
peer.on('track', (track: MediaStreamTrack, stream: MediaStream) => { console.log(track.kind, stream.id) })
peer.on('error', (err: Peer.Error) => { const code: Peer.Code = err.code; console.log(code) })
peer.pipe(peer)
peer.getStats().then((reports: Peer.Stats[]) => console.log(reports.length), () => {})
const supported: boolean = Peer.WEBRTC_SUPPORT
Peer.config = { iceServers: [] }
const address: { port: number | undefined } = peer.address()
const remote: string | undefined = peer.remoteAddress
peer.end()
console.log(supported, address, remote, peer.connected, peer.bufferSize)
// @ts-expect-error: not an option
new Peer({ initiatorr: true })
`
  const configs = {
    'node16 (CommonJS)': { file: 'cjs.ts', head: "import Peer = require('duplex-peer')", module: 'node16', moduleResolution: 'node16' },
    'node16 (ES module)': { file: 'esm.mts', head: "import Peer from 'duplex-peer'", module: 'node16', moduleResolution: 'node16' },
    bundler: { file: 'bundler.ts', head: "import Peer from 'duplex-peer'", module: 'esnext', moduleResolution: 'bundler' }
  }
  for (const [name, config] of Object.entries(configs)) {
    const project = path.join(consumer, `tsconfig.${config.file}.json`)
    fs.writeFileSync(path.join(consumer, config.file), `${config.head}\n${usage}`)
    fs.writeFileSync(project, JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'es2020',
        lib: ['es2020', 'dom'],
        types: ['node'],
        module: config.module,
        moduleResolution: config.moduleResolution
      },
      files: [config.file]
    }))
    try {
      await node([path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project])
      t.pass(`${name}: compiles (strict, skipLibCheck off)`)
    } catch (err) {
      t.fail(`${name}: ${err.message}`)
    }
  }
})

test('package: publint and attw find no problem', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!tarball) return t.fail('no tarball')
  const publint = await run(bin('publint'), ['run', tarball, '--level', 'warning'], { cwd: root })
  const clean = /All good/.test(publint.stdout) && !/Errors:|Warnings:/.test(publint.stdout)
  t.ok(clean, 'publint: no errors or warnings')
  if (!clean) t.comment(publint.stdout)
  try {
    const attw = await run(bin('attw'), [tarball, '--no-definitely-typed', '--format', 'ascii', '--no-color'], { cwd: root })
    t.ok(/No problems found/.test(attw.stdout), 'attw: no problems')
  } catch (err) {
    t.fail(`attw: ${err.message}`)
  }
})

test('package: the API docs build, with every public declaration documented', async t => {
  t.timeoutAfter(TIMEOUT)
  if (!dir) return t.fail('no scratch directory')
  // scripts/docs/typedoc.json treats any warning (e.g. something undocumented) as an error.
  try {
    await run(bin('typedoc'), ['--options', path.join(root, 'scripts', 'docs', 'typedoc.json'), '--out', path.join(dir, 'docs')], { cwd: root })
    t.ok(fs.existsSync(path.join(dir, 'docs', 'classes', 'Peer.html')), 'typedoc: no warnings; the Peer page is there')
  } catch (err) {
    t.fail(`typedoc: ${err.message}`)
  }
})

test('package: clean up', t => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
  dir = tarball = consumer = null
  t.end()
})

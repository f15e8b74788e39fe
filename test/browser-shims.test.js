'use strict'
// The smaller stand-ins that browser builds use in place of some
// dependencies (scripts/build-browser.js), checked in Node against what they
// replace: lib/debug.browser.ts (built: dist/lib/debug.browser.js) for
// `debug`, and scripts/browser-shims/ for `process` and
// readable-stream's internal validators.
const path = require('path')
const test = require('tape')

const root = path.join(__dirname, '..')
const shims = path.join(root, 'scripts', 'browser-shims')
const debugShim = path.join(root, 'dist', 'lib', 'debug.browser.js')

/** Loads the debug shim afresh with `localStorage.debug` (or `DEBUG`) set, and captures console.debug. */
function withDebug (storage, env, fn) {
  const saved = { localStorage: globalThis.localStorage, debug: console.debug, DEBUG: process.env.DEBUG }
  const lines = []
  if (storage === undefined) delete globalThis.localStorage
  else globalThis.localStorage = { getItem: key => (Object.prototype.hasOwnProperty.call(storage, key) ? storage[key] : null) }
  if (env === undefined) delete process.env.DEBUG
  else process.env.DEBUG = env
  console.debug = (...args) => lines.push(args)
  delete require.cache[require.resolve(debugShim)]
  try {
    return fn(require(debugShim), lines)
  } finally {
    console.debug = saved.debug
    if (saved.localStorage === undefined) delete globalThis.localStorage
    else globalThis.localStorage = saved.localStorage
    if (saved.DEBUG === undefined) delete process.env.DEBUG
    else process.env.DEBUG = saved.DEBUG
    delete require.cache[require.resolve(debugShim)]
  }
}

test('debug shim: namespaces enabled as debug enables them', t => {
  const cases = [
    // [localStorage, process.env.DEBUG, { namespace: enabled }]
    [{ debug: 'duplex-peer' }, undefined, { 'duplex-peer': true, 'duplex-peer:peerjs': false, 'simple-peer': false }],
    [{ debug: 'duplex-peer*' }, undefined, { 'duplex-peer': true, 'duplex-peer:peerjs': true, other: false }],
    [{ debug: '*' }, undefined, { 'duplex-peer': true, 'duplex-peer:peerjs': true, other: true }],
    [{ debug: 'duplex-peer*,-duplex-peer:peerjs' }, undefined, { 'duplex-peer': true, 'duplex-peer:peerjs': false }],
    [{ debug: 'simple-peer duplex-peer:*' }, undefined, { 'duplex-peer': false, 'duplex-peer:peerjs': true, 'simple-peer': true }],
    [{ debug: '*,-duplex-peer' }, undefined, { 'duplex-peer': false, 'duplex-peer:peerjs': true }],
    [{ debug: 'duplex.peer' }, undefined, { 'duplex-peer': false }],
    [{ DEBUG: 'duplex-peer' }, undefined, { 'duplex-peer': true }],
    [{}, undefined, { 'duplex-peer': false }],
    [{}, 'duplex-peer', { 'duplex-peer': true }],
    [undefined, 'duplex-peer', { 'duplex-peer': true }],
    [undefined, undefined, { 'duplex-peer': false, '': false }]
  ]
  for (const [storage, env, expected] of cases) {
    withDebug(storage, env, (createDebug, lines) => {
      const actual = {}
      for (const ns of Object.keys(expected)) {
        const log = createDebug(ns)
        log('hello %s', 'world')
        actual[ns] = log.enabled
        t.equal(log.namespace, ns, 'namespace')
      }
      t.deepEqual(actual, expected, `localStorage ${JSON.stringify(storage)}, DEBUG ${JSON.stringify(env)}`)
      t.equal(lines.length, Object.values(expected).filter(Boolean).length, 'only enabled namespaces log')
    })
  }
  // The real package agrees on the same settings (Node reads DEBUG at load).
  for (const [setting, ns] of [['duplex-peer*,-duplex-peer:peerjs', 'duplex-peer:peerjs'], ['simple-peer duplex-peer:*', 'duplex-peer:peerjs'], ['*,-duplex-peer', 'duplex-peer']]) {
    const real = require('debug')
    const saved = real.load()
    real.enable(setting)
    const expected = real.enabled(ns)
    real.enable(saved || '')
    t.equal(withDebug({ debug: setting }, undefined, createDebug => createDebug(ns).enabled), expected, `'${setting}' / ${ns}: as debug (${expected})`)
  }
  t.end()
})

test('debug shim: console output as debug prints it in a browser', t => {
  withDebug({ debug: 'duplex-peer' }, undefined, (createDebug, lines) => {
    const log = createDebug('duplex-peer')
    log('[abc] new peer %o', { initiator: true })
    log('100%% %s %d %j done', 'x', 3, { a: 1 })
    log(new Error('boom'))
    log({ an: 'object' })
    t.equal(lines.length, 4, 'four lines')
    const [first, second, third, fourth] = lines
    t.ok(/^%cduplex-peer %c\[abc\] new peer %o%c \+\d+ms$/.test(first[0]), 'namespace, message and +ms, with %c styles')
    t.equal(first.length, 5, 'format, namespace colour, message colour, the argument, +ms colour')
    t.equal(first[2], 'color: inherit', 'message in the default colour')
    t.equal(first[1], first[4], 'namespace and +ms in the namespace colour')
    t.deepEqual(first[3], { initiator: true }, '%o argument passed to the console')
    t.ok(second[0].includes('100% %s %d {"a":1} done'), '%% and %j are formatted, %s and %d left to the console')
    t.deepEqual(second.slice(3), ['x', 3, second[1]], 'arguments then the +ms colour')
    t.ok(third[0].includes('Error: boom'), 'an Error logs its stack')
    t.ok(fourth[0].includes('%O'), 'a non-string logs with %O')
    t.deepEqual(fourth[3], { an: 'object' }, 'the object itself')
  })
  t.end()
})

test('process shim: nextTick runs callbacks in order, with their arguments, after the current task', t => {
  const { nextTick } = require(path.join(shims, 'process.js'))
  const order = []
  nextTick((a, b) => {
    order.push(`1:${a}${b}`)
    nextTick(() => order.push('3: queued while draining'))
  }, 'x', 'y')
  nextTick(() => order.push('2'))
  Promise.resolve().then(() => order.push('microtask'))
  order.push('sync')
  const thrown = []
  const onError = err => thrown.push(err.message)
  process.on('uncaughtException', onError)
  setTimeout(() => {
    t.deepEqual(order, ['sync', 'microtask', '1:xy', '2', '3: queued while draining'], 'order: after microtasks, as a setTimeout')
    nextTick(() => { throw new Error('boom') })
    nextTick(() => order.push('after a throw'))
    setTimeout(() => setTimeout(() => {
      process.removeListener('uncaughtException', onError)
      t.deepEqual(thrown, ['boom'], 'an error escapes')
      t.equal(order[order.length - 1], 'after a throw', 'and the rest still run')
      t.end()
    }, 5), 5)
  }, 5)
})

test('validators shim: the same checks and errors as readable-stream\'s', t => {
  const real = require('readable-stream/lib/internal/validators')
  const shim = require(path.join(shims, 'validators.js'))
  const values = [undefined, null, 0, 1.5, -1, 2 ** 60, NaN, '', 'str', true, false, {}, [], () => {}, Symbol('s'), 10n, { aborted: false }, new AbortController().signal]
  const calls = []
  for (const value of values) {
    // Called as readable-stream calls them. (Its validateObject() fails on an
    // options argument, which it never passes: primordials lack
    // ObjectPrototypeHasOwnProperty.)
    calls.push(['validateObject', value, 'options'])
    calls.push(['validateAbortSignal', value, 'options.signal'], ['validateFunction', value, 'callback'], ['validateBoolean', value, 'cleanup'])
    calls.push(['validateInteger', value, 'value', 0], ['validateInteger', value, 'value'])
  }
  const outcome = (validators, [name, ...args]) => {
    try {
      validators[name](...args)
      return 'ok'
    } catch (err) {
      return `${err.name} ${err.code}: ${err.message}`
    }
  }
  const differ = calls.filter(call => outcome(shim, call) !== outcome(real, call))
  t.deepEqual(differ.map(([name, value]) => `${name}(${typeof value === 'symbol' || typeof value === 'bigint' ? String(value) : JSON.stringify(value)})`), [], `${calls.length} calls: same results`)
  t.end()
})

// scripts/build-browser.js takes over two pieces of readable-stream: it
// replaces lib/internal/validators.js with scripts/browser-shims/validators.js,
// and the package entry with a Duplex-only one that repeats the entry's set-up
// the Duplex modules rely on. Both are checked against one exact version of
// readable-stream; these tests fail when a different version changes either.
const esbuild = require('esbuild')
const fs = require('fs')

const streamLib = path.dirname(require.resolve('readable-stream/lib/stream.js'))

/** The readable-stream modules in the browser build of index.ts, with what each imports (esbuild's metafile). */
async function bundledStreamModules () {
  const { builds } = require(path.join(root, 'scripts', 'build-browser.js'))
  const cjs = builds.find(options => options.format === 'cjs' && options.entryPoints && options.entryPoints[0].endsWith('index.ts'))
  const result = await esbuild.build({ ...cjs, write: false, metafile: true, logLevel: 'silent' })
  return Object.entries(result.metafile.inputs)
    .filter(([file]) => file.includes('node_modules/readable-stream/'))
    .map(([file, input]) => ({ file: path.join(root, file), imports: input.imports }))
}

/** Source without comments (enough for readable-stream's files: no comment markers in its strings). */
function code (file) {
  return fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '')
}

test('readable-stream: pinned to one exact version, the one installed', t => {
  const pkg = require(path.join(root, 'package.json'))
  const lock = require(path.join(root, 'package-lock.json'))
  const installed = require('readable-stream/package.json').version
  t.ok(/^\d+\.\d+\.\d+$/.test(pkg.dependencies['readable-stream']), `package.json asks for an exact version (${pkg.dependencies['readable-stream']})`)
  t.equal(pkg.dependencies['readable-stream'], installed, 'the installed version is the pinned one')
  t.equal(lock.packages[''].dependencies['readable-stream'], pkg.dependencies['readable-stream'], 'package-lock.json agrees with package.json')
  t.equal(lock.packages['node_modules/readable-stream'].version, installed, 'package-lock.json locks the same version')
  t.end()
})

test('validators shim: exactly the validators that the bundled readable-stream modules import', async t => {
  const shimFile = path.join(shims, 'validators.js')
  const modules = await bundledStreamModules()
  const importers = modules.filter(m => m.imports.some(i => path.join(root, i.path) === shimFile))
  t.ok(importers.length > 0, `the shim replaces validators in ${importers.length} bundled modules`)
  const used = new Set()
  const unread = []
  for (const { file } of importers) {
    const source = code(file)
    const requires = source.match(/require\(['"][./]*validators['"]\)/g) || []
    const destructured = [...source.matchAll(/const\s*\{([^}]*)\}\s*=\s*require\(['"][./]*validators['"]\)/g)]
    // A require that is not destructured could read any validator: the shim cannot be checked against it.
    if (destructured.length !== requires.length) unread.push(path.relative(streamLib, file))
    for (const [, names] of destructured) {
      for (const name of names.split(',')) if (name.trim()) used.add(name.split(':')[0].trim())
    }
  }
  t.deepEqual(unread, [], 'every module takes named validators from the module')
  const shim = require(shimFile)
  t.deepEqual([...used].sort(), Object.keys(shim).sort(), 'the shim has the validators used, and no others')
  const real = require('readable-stream/lib/internal/validators')
  t.deepEqual([...used].filter(name => typeof real[name] !== 'function'), [], 'each is one readable-stream has')
})

test('duplex-only entry: repeats the set-up of readable-stream\'s entry that the bundled modules rely on', async t => {
  // What readable-stream's entry (lib/stream.js) sets up, in order. The
  // Duplex-only entry copies the two Stream._* helpers; the rest serves
  // parts of the package a Peer does not load.
  const COPIED = ['Stream._isUint8Array', 'Stream._uint8ArrayToBuffer']
  const ENTRY_STEPS = [
    'Stream.isDestroyed', 'Stream.isDisturbed', 'Stream.isErrored', 'Stream.isReadable', 'Stream.isWritable',
    'Stream.Readable',
    // The Readable operators (map, filter, toArray, ...), twice: those returning streams, then promises.
    "define fn['name']", "define fn['length']", 'define Stream.Readable.prototype[key]',
    "define fn['name']", "define fn['length']", 'define Stream.Readable.prototype[key]',
    'Stream.Writable', 'Stream.Duplex', 'Stream.Transform', 'Stream.PassThrough', 'Stream.pipeline',
    'Stream.addAbortSignal', 'Stream.finished', 'Stream.destroy', 'Stream.compose',
    'Stream.setDefaultHighWaterMark', 'Stream.getDefaultHighWaterMark', "define Stream['promises']",
    'define pipeline[customPromisify]', 'define eos[customPromisify]', 'Stream.Stream', ...COPIED
  ]
  const entry = code(path.join(streamLib, 'stream.js'))
  const steps = [...entry.matchAll(/^\s*(?:(Stream\.\w+)\s*=[^=]|ObjectDefineProperty\(([\w.]+),\s*([\w']+),)/gm)]
    .map(([, assigned, target, key]) => assigned || `define ${target}[${key}]`)
  t.deepEqual(steps, ENTRY_STEPS, 'readable-stream\'s entry sets up what it did when build-browser.js was written')

  // What the bundled modules read of it.
  const assignedByEntry = new Set(ENTRY_STEPS.filter(step => step.startsWith('Stream.')).map(step => step.slice('Stream.'.length)))
  const read = new Set()
  for (const { file } of await bundledStreamModules()) {
    for (const [, member] of code(file).matchAll(/\bStream\.(\w+)/g)) if (assignedByEntry.has(member)) read.add(`Stream.${member}`)
  }
  t.deepEqual([...read].sort(), [...COPIED].sort(), 'the bundled modules read only the copied helpers of the entry')

  // And the Duplex-only entry sets exactly those.
  const { builds } = require(path.join(root, 'scripts', 'build-browser.js'))
  const plugin = builds[0].plugins.find(p => p.name === 'readable-stream-duplex-only')
  let contents = null
  plugin.setup({
    onResolve () {},
    onLoad (filter, load) { if (filter.namespace === 'duplex-only') contents = load({}).contents }
  })
  const copied = [...contents.matchAll(/^\s*(Stream\.\w+)\s*=[^=]/gm)].map(([, name]) => name)
  t.deepEqual(copied, COPIED, 'build-browser.js\'s Duplex-only entry sets them')
})

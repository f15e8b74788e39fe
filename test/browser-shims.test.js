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

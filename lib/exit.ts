/**
 * A safe natural exit for Node processes that used peers.
 *
 * `@roamhq/wrtc` (0.9.1 to 0.10.0 at least) can crash a process (SIGSEGV,
 * sometimes SIGABRT) when Node exits by itself. In the environment's cleanup
 * Node runs the finalizer of every native object still alive, in an order of
 * its own; the finalizer of an `RTCPeerConnection` (`~RTCPeerConnection`)
 * then releases the data channels the connection holds, which may have been
 * finalized just before: a use after free in `napi_reference_unref`
 * (WonderInventions/node-webrtc#35). It happens most to connections closed
 * soon after their channel opened. `process.exit()` and uncaught exceptions
 * skip that cleanup; only a natural exit (the event loop ran dry) runs it.
 *
 * A connection finalized while Node still runs (by the garbage collector,
 * once it is closed and nothing references it) is released safely: its
 * channels are still alive then. So when the loop runs dry (`beforeExit`)
 * and connections made by peers were closed since the last look, this
 * module runs one full garbage collection. The collected connections'
 * finalizers run on the next turn of the loop (so `beforeExit` is emitted
 * once more), and the process then exits with none of them left for the
 * cleanup. Collecting right after `close()` is too early: wrtc still holds
 * a closed connection for a few turns of the loop.
 *
 * A closed connection that the application still references cannot be
 * collected. If one is left when `exit` is emitted on a natural exit (in the
 * main thread, with every connection made by peers closed), the last `exit`
 * listener ends the process as `process.exit()` would, with the same exit
 * code, which skips the native finalizers (and the rest of Node's cleanup,
 * as `process.exit()` does).
 *
 * The environment variable `DUPLEX_PEER_SAFE_EXIT=0` (or `false`, `off`,
 * `no`; read at exit time, so `process.env` may be set at any moment) turns
 * both off. Nothing is installed in a process that never created a
 * connection. Browser builds use `exit.browser.ts` instead, which does
 * nothing. `DEBUG=duplex-peer:exit` logs what is done.
 */
import { setFlagsFromString } from 'v8'
import { runInNewContext } from 'vm'
import { isMainThread } from 'worker_threads'
import createDebug = require('debug')
import { DEBUG_NAMESPACE } from './constants'

const debug = createDebug(`${DEBUG_NAMESPACE}:exit`)

/** Environment variable that turns exit safety off when `0`, `false`, `off` or `no`. */
export const SAFE_EXIT_ENV = 'DUPLEX_PEER_SAFE_EXIT'

/** Closed connections not yet seen collected: pruned when the list doubles. */
const closed: Array<WeakRef<object>> = []
/** Length of {@link closed} after its last pruning. */
let prunedLength = 0
/** Connections tracked and not yet closed. */
const open = new WeakSet<object>()
/** Number of connections in {@link open}. */
let openCount = 0
/** Connections closed since the last garbage collection run here. */
let closedSinceCollection = 0
/** Whether `beforeExit` was emitted: the process is on its way to a natural exit. */
let leavingNaturally = false
/** Whether the process listeners are installed. */
let installed = false
/** The garbage collector, once looked up; `null` if unavailable. */
let collector: (() => void) | null | undefined

/**
 * Records a new `RTCPeerConnection`. Call it once per connection, right
 * after creating it; the first call installs the process listeners.
 */
export function trackConnection (pc: object): void {
  if (!hasProcessEvents() || open.has(pc)) return
  open.add(pc)
  openCount++
  if (!installed) {
    installed = true
    process.on('beforeExit', onBeforeExit)
    process.on('exit', onExit)
  }
}

/**
 * Records that `pc` (given to {@link trackConnection}) was closed. Call it
 * right after `pc.close()`. The connection is only held weakly from then on.
 */
export function connectionClosed (pc: object): void {
  if (!open.has(pc)) return
  open.delete(pc)
  openCount--
  closedSinceCollection++
  closed.push(new WeakRef(pc))
  if (closed.length >= Math.max(64, prunedLength * 2)) prune()
}

/** Whether exit safety is on: it is unless {@link SAFE_EXIT_ENV} says otherwise. */
export function exitSafetyEnabled (): boolean {
  const value = process.env[SAFE_EXIT_ENV]
  return value === undefined || !/^(0|false|off|no)$/i.test(value.trim())
}

/**
 * The loop is empty and Node is about to exit by itself: collect the closed
 * connections now, while their finalizers can run safely. Collected
 * connections' finalizers are queued for the next turn of the loop, after
 * which `beforeExit` comes again and finds nothing new.
 */
function onBeforeExit (): void {
  leavingNaturally = true
  // Stay the last `exit` listener, after those the application added since.
  process.removeListener('exit', onExit)
  process.on('exit', onExit)
  if (closedSinceCollection === 0 || !exitSafetyEnabled()) return
  closedSinceCollection = 0
  // No deref() before the collection: a target deref'd in this turn is kept
  // alive until the turn ends, so the collection could not take it.
  const gc = garbageCollector()
  if (!gc) return
  const before = closed.length
  gc()
  prune()
  debug('exit: collected %d of %d closed connections', before - closed.length, before)
}

/**
 * Last `exit` listener. On a natural exit of the main thread, with every
 * connection closed but some still uncollected (the application holds them),
 * ends the process now with its exit code, as `process.exit()` would, so that
 * the native finalizers never run. (In a worker, `process.exit()` ends the
 * thread, whose environment is then cleaned up all the same: no use.)
 */
function onExit (code: number): void {
  if (!leavingNaturally || !isMainThread || openCount > 0 || !exitSafetyEnabled()) return
  prune()
  if (closed.length === 0) return
  debug('exit: %d closed connections still referenced: ending the process now, skipping the native finalizers', closed.length)
  // The code Node would exit with: `exit` listeners before this one may have
  // changed process.exitCode.
  const current = process.exitCode === undefined || process.exitCode === null ? code : Number(process.exitCode)
  // Inside an `exit` listener process.exit() does not emit `exit` again: it
  // ends the process at once, without the environment cleanup.
  process.exit(Number.isInteger(current) ? current : code)
}

/** Drops the closed connections that were collected. */
function prune (): void {
  let kept = 0
  for (const ref of closed) if (ref.deref() !== undefined) closed[kept++] = ref
  closed.length = kept
  prunedLength = kept
}

/**
 * A function that runs a full garbage collection: `globalThis.gc` under
 * `--expose-gc`, otherwise the one a new V8 context gets with that flag set
 * for a moment. `null` if neither works.
 */
function garbageCollector (): (() => void) | null {
  if (collector !== undefined) return collector
  collector = null
  const exposed = (globalThis as { gc?: unknown }).gc
  if (typeof exposed === 'function') {
    collector = () => { (exposed as () => void)() }
    return collector
  }
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('gc')
    if (typeof gc === 'function') collector = () => { (gc as () => void)() }
  } catch {
    // No garbage collector to call: connections are left to the cleanup.
  } finally {
    try { setFlagsFromString('--no-expose-gc') } catch { /* as before, then */ }
  }
  return collector
}

/** Whether this is a Node-like process with `beforeExit` and `exit` events. */
function hasProcessEvents (): boolean {
  return typeof process === 'object' && process !== null && typeof process.on === 'function'
}

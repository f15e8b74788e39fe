/**
 * `Transfer`: what `room.send()` and `roomPeer.send()` return. A Promise
 * that resolves once every target confirmed it received the whole message,
 * and an async iterable of progress per target.
 */
import { roomError, RoomErrorCode, type RoomError } from './errors'
import { encodeInfo, encodeLabel, MAX_INFO_BYTES } from './frames'
import type { JsonValue } from './protocol'
import { SharedSource, toSource } from './sources'
import { Outgoing } from './scheduler'
import type { RoomPeer } from './room-peer'

/** Label of messages sent with no label. */
export const DEFAULT_LABEL = 'default'

/** Options of `send()`. */
export interface SendOptions {
  /** The message's label, up to 255 bytes of UTF-8. @defaultValue `'default'` */
  label?: string
  /** Aborts the transfer: the targets get an `ABORT`, the transfer rejects with `ERR_TRANSFER_ABORTED`. */
  signal?: AbortSignal
  /**
   * A JSON value about the message (a file's name, type, size...), at most
   * 16 KiB as JSON. The receiver gets it as `info` in `channel:message`
   * before the payload, to decide whether to `accept()` or `decline()` it.
   */
  info?: JsonValue
}

/** Progress of a transfer to one target. */
export interface TransferProgress {
  /** The target. */
  readonly peer: RoomPeer
  /** The transfer's label. */
  readonly label: string
  /** Payload bytes handed to the connection so far. */
  readonly current: number
  /** Payload length; `null` for a stream until it ends. */
  readonly total: number | null
}

/**
 * How far a stream may run ahead for its fastest target, in pieces of
 * about 64 KiB: the bytes a fan-out holds for slower targets stay under 1 MiB.
 */
const MAX_LEAD = 16

interface Target {
  readonly peer: RoomPeer
  readonly outgoing: Outgoing
  current: number
  total: number | null
  state: 'sending' | 'received' | 'failed'
  error?: RoomError
}

/** How a transfer ended for one target (`transfer.results()`). */
export interface TransferResult {
  /** The target. */
  readonly peer: RoomPeer
  /** `received`: it confirmed it has it all; `failed`: it did not get it. */
  readonly status: 'received' | 'failed'
  /** Why it failed (a coded error), if it did. */
  readonly error?: RoomError
}

/** One iteration over a transfer's progress. */
class ProgressIterator implements AsyncIterator<TransferProgress> {
  /** Updates not yet taken, at most one per target (the latest). */
  private readonly pending = new Map<RoomPeer, TransferProgress>()
  private waiting: ((result: IteratorResult<TransferProgress>) => void) | null = null
  private failWaiting: ((error: unknown) => void) | null = null
  private ended = false

  constructor (private readonly owner: Transfer) {}

  push (progress: TransferProgress): void {
    if (this.ended) return
    if (this.waiting) {
      const resolve = this.waiting
      this.waiting = null
      this.failWaiting = null
      resolve({ value: progress, done: false })
    } else {
      this.pending.delete(progress.peer)
      this.pending.set(progress.peer, progress)
    }
  }

  settle (): void {
    if (!this.waiting || this.failWaiting === null) return
    const resolve = this.waiting
    const reject = this.failWaiting
    this.waiting = null
    this.failWaiting = null
    this.finish().then(resolve, reject)
  }

  async next (): Promise<IteratorResult<TransferProgress>> {
    const first = this.pending.entries().next()
    if (first.done !== true) {
      this.pending.delete(first.value[0])
      return { value: first.value[1], done: false }
    }
    if (this.ended || this.owner.complete) return await this.finish()
    return await new Promise((resolve, reject) => {
      this.waiting = resolve
      this.failWaiting = reject
    })
  }

  return (): Promise<IteratorResult<TransferProgress>> {
    this.ended = true
    this.pending.clear()
    return Promise.resolve({ value: undefined, done: true })
  }

  private async finish (): Promise<IteratorResult<TransferProgress>> {
    this.ended = true
    await this.owner
    return { value: undefined, done: true }
  }
}

/**
 * A message on its way to one or more peers. Await it (it is a Promise):
 * it resolves once every target confirmed it has the whole message, and
 * rejects with a coded error if any target did not get it (`ERR_TRANSFER_ABORTED`
 * after the `signal` aborted, `ERR_PEER_CLOSED`, `ERR_TRANSFER_REFUSED`,
 * `ERR_TRANSFER_DECLINED`, `ERR_TRANSFER_CANCELLED`, `ERR_SOURCE_FAILED`);
 * the other targets still get it (`results()` tells how it ended for each).
 * Iterate it (`for await`) for progress `{ peer, label, current, total }`
 * per target, increasing, ending once every target received it or failed
 * (throwing the first error, if any).
 * @example
 * ```js
 * const transfer = room.send(fs.createReadStream('big.iso'), { label: 'files' })
 * for await (const { peer, current } of transfer) console.log(peer.id, current)
 * await transfer // every target has it
 * ```
 */
export class Transfer implements PromiseLike<void>, AsyncIterable<TransferProgress> {
  /** The transfer's label. */
  readonly label: string
  private readonly targets = new Map<RoomPeer, Target>()
  private readonly iterators = new Set<ProgressIterator>()
  private readonly promise: Promise<void>
  private resolvePromise!: () => void
  private rejectPromise!: (error: RoomError) => void
  private done = false
  private finished = false
  private resolveResults!: (results: TransferResult[]) => void
  private readonly resultsPromise: Promise<TransferResult[]>
  private readonly signal: AbortSignal | undefined
  private readonly onAbort = (): void => this.abort()

  /** @internal Made by `send()`. */
  constructor (label: string, signal: AbortSignal | undefined) {
    this.label = label
    this.signal = signal
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolvePromise = resolve
      this.rejectPromise = reject
    })
    // Whoever awaits or iterates sees the rejection; nobody need do either.
    this.promise.catch(() => {})
    this.resultsPromise = new Promise(resolve => { this.resolveResults = resolve })
  }

  /** Whether it has resolved or rejected. */
  get settled (): boolean {
    return this.done
  }

  /** @internal Whether every target received it or failed (progress ends then). */
  get complete (): boolean {
    return this.finished
  }

  /**
   * How the transfer ended for each target, once every one of them
   * received it or failed (never rejects): for a fan-out where some targets
   * may leave or refuse, while the Promise rejects at the first failure.
   * @example
   * ```js
   * for (const { peer, status, error } of await room.send(file).results()) console.log(peer.id, status, error?.code)
   * ```
   */
  results (): Promise<TransferResult[]> {
    return this.resultsPromise
  }

  /** Progress of each target now. */
  get progress (): TransferProgress[] {
    return [...this.targets.values()].map(t => this.snapshot(t))
  }

  /** Like `Promise.then()`. */
  then<T = void, E = never> (onFulfilled?: ((value: void) => T | PromiseLike<T>) | null, onRejected?: ((reason: RoomError) => E | PromiseLike<E>) | null): Promise<T | E> {
    return this.promise.then(onFulfilled, onRejected)
  }

  /** Like `Promise.catch()`. */
  catch<E = never> (onRejected?: ((reason: RoomError) => E | PromiseLike<E>) | null): Promise<void | E> {
    return this.promise.catch(onRejected)
  }

  /** Like `Promise.finally()`. */
  finally (onFinally?: (() => void) | null): Promise<void> {
    return this.promise.finally(onFinally)
  }

  /** Progress updates, from now on (starting with where each target stands). */
  [Symbol.asyncIterator] (): AsyncIterator<TransferProgress> {
    const iterator = new ProgressIterator(this)
    for (const target of this.targets.values()) iterator.push(this.snapshot(target))
    if (!this.finished) this.iterators.add(iterator)
    return iterator
  }

  /** @internal Adds a target and its outgoing part. */
  add (peer: RoomPeer, outgoing: Outgoing, total: number | null): void {
    this.targets.set(peer, { peer, outgoing, current: 0, total, state: 'sending' })
  }

  /** @internal Starts: listens to the signal; settles at once with no targets. */
  begin (): void {
    if (this.signal?.aborted === true) {
      this.abort()
      return
    }
    this.signal?.addEventListener('abort', this.onAbort)
    this.check()
  }

  /** @internal */
  progressed (peer: RoomPeer, current: number, total: number | null): void {
    const target = this.targets.get(peer)
    if (!target) return
    target.current = current
    target.total = total
    const update = this.snapshot(target)
    for (const iterator of this.iterators) iterator.push(update)
  }

  /** @internal */
  received (peer: RoomPeer): void {
    const target = this.targets.get(peer)
    if (!target || target.state !== 'sending') return
    target.state = 'received'
    this.check()
  }

  /** @internal */
  failed (peer: RoomPeer, error: RoomError): void {
    const target = this.targets.get(peer)
    if (!target || target.state !== 'sending') return
    target.state = 'failed'
    target.error = error
    this.settle(error)
    this.check()
  }

  private abort (): void {
    const error = roomError('the transfer was aborted', RoomErrorCode.TRANSFER_ABORTED)
    for (const target of this.targets.values()) {
      if (target.state !== 'sending') continue
      target.state = 'failed'
      target.error = error
      target.peer.cancelTransfer(target.outgoing, 'aborted by the sender')
    }
    this.settle(error)
    this.check()
  }

  /** Every target received it or failed: the transfer is complete (progress ends, results known). */
  private check (): void {
    if (this.finished || [...this.targets.values()].some(t => t.state === 'sending')) return
    this.finished = true
    this.settle()
    this.signal?.removeEventListener('abort', this.onAbort)
    this.resolveResults([...this.targets.values()].map(t => ({
      peer: t.peer, status: t.state === 'received' ? 'received' : 'failed', ...(t.error ? { error: t.error } : {})
    })))
    for (const iterator of this.iterators) iterator.settle()
    this.iterators.clear()
  }

  private settle (error?: RoomError): void {
    if (this.done) return
    this.done = true
    if (error) this.rejectPromise(error)
    else this.resolvePromise()
  }

  private snapshot (target: Target): TransferProgress {
    return { peer: target.peer, label: this.label, current: target.current, total: target.total }
  }
}

/**
 * @internal Checks a message and its options (throwing coded errors) and
 * starts sending it to `targets`, which must not be closed.
 */
export function startTransfer (data: unknown, options: SendOptions | undefined, targets: readonly RoomPeer[], transfer: number, maxMessageSize: number): Transfer {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw roomError('send() options must be an object', RoomErrorCode.INVALID_OPTION)
  }
  const label = options?.label ?? DEFAULT_LABEL
  if (typeof label !== 'string') throw roomError('label must be a string', RoomErrorCode.INVALID_OPTION)
  const labelBytes = encodeLabel(label)
  if (!labelBytes) throw roomError('label is longer than 255 bytes of UTF-8', RoomErrorCode.INVALID_OPTION)
  const signal = options?.signal
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')) {
    throw roomError('signal must be an AbortSignal', RoomErrorCode.INVALID_OPTION)
  }
  let info: Uint8Array | null = null
  if (options?.info !== undefined) {
    info = encodeInfo(options.info)
    if (!info) throw roomError(`info must be a JSON value of at most ${MAX_INFO_BYTES} bytes as JSON`, RoomErrorCode.INVALID_OPTION)
  }
  const source = toSource(data)
  if (!source) throw roomError('send() takes a string, bytes, a JSON value, a Blob or a stream', RoomErrorCode.INVALID_DATA)
  if (source.total !== null && source.total > maxMessageSize) {
    throw roomError(`message of ${source.total} bytes is larger than maxMessageSize (${maxMessageSize})`, RoomErrorCode.MESSAGE_TOO_LARGE)
  }
  const result = new Transfer(label, signal)
  const shared = new SharedSource(source, MAX_LEAD)
  const parts = targets.map(peer => {
    const outgoing = new Outgoing(transfer, source.kind, labelBytes, shared, {
      progress: (current, total) => result.progressed(peer, current, total),
      received: () => result.received(peer),
      failed: error => result.failed(peer, error)
    }, info)
    result.add(peer, outgoing, source.total)
    return { peer, outgoing }
  })
  if (targets.length === 0) source.cancel(roomError('the transfer has no targets', RoomErrorCode.TRANSFER_ABORTED))
  result.begin()
  if (!result.settled) for (const { peer, outgoing } of parts) peer.enqueueTransfer(outgoing)
  return result
}

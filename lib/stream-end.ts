/**
 * How a peer's two stream sides end when it is destroyed, as simple-peer's
 * teardown ends them: readable-stream 4 would end neither, and applications
 * written for simple-peer wait for `finish` and `end`.
 */
import type { Duplex } from 'readable-stream'

/** The flags of readable-stream's internal state that the teardown sets. */
interface SideState {
  length: number
  ended: boolean
  ending?: boolean
  prefinished?: boolean
  finished?: boolean
  endEmitted?: boolean
  closeEmitted?: boolean
  flowing?: boolean | null
}

function sides (stream: Duplex): { readable: SideState, writable: SideState } {
  const self = stream as unknown as { _readableState: SideState, _writableState: SideState }
  return { readable: self._readableState, writable: self._writableState }
}

/**
 * At teardown: the readable side ends, and the writable side ends too, with
 * `prefinish` and `finish` unless a write is still pending (later writes
 * fail with `ERR_STREAM_WRITE_AFTER_END`). A reader then gets `end` after
 * `close`: at once if it is flowing with nothing left to read, otherwise
 * once it has read what remains ({@link endAfterClose} from `read()`).
 */
export function endSides (stream: Duplex): void {
  const { readable, writable } = sides(stream)
  const finish = !writable.finished && stream.writableLength === 0
  writable.ending = true
  writable.ended = true
  if (finish) {
    if (!writable.prefinished) {
      writable.prefinished = true
      stream.emit('prefinish')
    }
    writable.finished = true
    stream.emit('finish')
  }
  // Ended without a push(null), which would emit `end` before `close`.
  readable.ended = true
  stream.once('close', () => queueMicrotask(() => {
    if (readable.flowing === true) endAfterClose(stream)
  }))
}

/** After `close` (see {@link endSides}): emits `end` once nothing is left to read. */
export function endAfterClose (stream: Duplex): void {
  const { readable } = sides(stream)
  if (!readable.closeEmitted || readable.endEmitted || !readable.ended || readable.length > 0) return
  readable.endEmitted = true
  queueMicrotask(() => stream.emit('end'))
}

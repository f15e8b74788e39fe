/**
 * The data channel's lifecycle: attaching to a channel, its `open` (with a
 * fallback for a channel that arrives already open), its messages (held
 * until the peer releases them), its close, and the graceful close after
 * `end()`. The peer decides what each of these means for the stream.
 */
import { Buffer } from 'buffer'
import { CHANNEL_CLOSE_TIMEOUT, CHANNEL_OPEN_FALLBACK } from './constants'
import { makeError, ErrorCode, type PeerError } from './errors'
import { Timers } from './timers'

/** Where the channel stands. */
export type ChannelState =
  /** No channel yet (the non-initiator waits for the initiator's). */
  | 'none'
  /** Attached, not open yet. */
  | 'connecting'
  /** Open: the peer may connect. */
  | 'open'
  /** Closing after `end()`. */
  | 'closing'
  /** Closed, by either side, or detached at teardown. */
  | 'closed'

/** What the channel tells its peer. */
export interface ChannelHost {
  debug (format: string, ...args: unknown[]): void
  /** The channel opened. */
  opened (): void
  /** A message for the application (once {@link DataChannelLink.release} was called). */
  message (chunk: Buffer | string): void
  /** The channel closed (not called after {@link DataChannelLink.detach}). */
  closed (): void
  /** The channel failed. */
  failed (err: PeerError): void
  /** The channel's send buffer went below its low-water mark. */
  drained (): void
}

/** One data channel, as the peer uses it. */
export class DataChannelLink {
  /** The channel (`null` before one is attached, and after {@link detach}). */
  channel: RTCDataChannel | null = null
  private state: ChannelState = 'none'
  private readonly host: ChannelHost
  /** Messages that arrived before {@link release}; `null` once released. */
  private held: Array<Buffer | string> | null = []
  private readonly timers = new Timers<'open' | 'close'>()

  constructor (host: ChannelHost) {
    this.host = host
  }

  /** Where the channel stands. */
  get current (): ChannelState {
    return this.state
  }

  /** Whether the channel is open, by its own account too. */
  get isOpen (): boolean {
    return this.state === 'open' && !!this.channel && readyState(this.channel) === 'open'
  }

  /** Uses `channel` from now on; `false` (and nothing done) if there is one already. */
  attach (channel: RTCDataChannel): boolean {
    if (this.channel || this.state !== 'none') {
      this.host.debug('ignoring extra data channel %s', readLabel(channel))
      return false
    }
    this.channel = channel
    this.state = 'connecting'
    channel.binaryType = 'arraybuffer'
    channel.onmessage = event => this.onMessage(event)
    channel.onbufferedamountlow = () => this.host.drained()
    channel.onopen = () => this.onOpen()
    channel.onclose = () => this.onClose()
    channel.onerror = event => {
      const detail = (event as unknown as { error?: unknown, message?: string })
      const err = detail.error instanceof Error ? detail.error : new Error(`Datachannel error: ${detail.message ?? 'unknown'}`)
      this.host.failed(makeError(err, ErrorCode.DATA_CHANNEL))
    }
    // A channel from `datachannel` arrives already open, and its `open` event
    // follows: wait for it, as simple-peer does. Connecting on the state seen
    // here made the non-initiator emit `connect` before the initiator, and code
    // that listens for the second `connect` inside the first one waited forever.
    if (readyState(channel) === 'open') this.timers.set('open', CHANNEL_OPEN_FALLBACK, () => this.onOpen())
    return true
  }

  /**
   * Delivers the messages held so far, and every later one as it comes. The
   * channel can deliver before this side's `connect` (the other side connected
   * first and wrote): held until then, `data` never precedes `connect`.
   */
  release (): void {
    const held = this.held
    this.held = null
    if (held) for (const chunk of held) this.host.message(chunk)
  }

  /**
   * After `end()`: closes the channel. `true` if it is closing, and
   * `closed()` or, after {@link CHANNEL_CLOSE_TIMEOUT} ms, `timedOut` follows;
   * `false` if it is closed already or cannot be closed.
   */
  close (timedOut: () => void): boolean {
    const channel = this.channel
    if (!channel || this.state === 'closed' || readyState(channel) === 'closed') return false
    this.state = 'closing'
    try {
      channel.close()
    } catch {
      return false
    }
    this.timers.set('close', CHANNEL_CLOSE_TIMEOUT, timedOut)
    return true
  }

  /** Teardown: no more events; the channel is closed and let go. */
  detach (): void {
    this.state = 'closed'
    this.held = null
    this.timers.clearAll()
    const channel = this.channel
    this.channel = null
    if (channel) releaseChannel(channel)
  }

  private onOpen (): void {
    if (this.state !== 'connecting') return
    this.timers.clear('open')
    this.host.debug('on channel open')
    this.state = 'open'
    this.host.opened()
  }

  private onMessage (event: MessageEvent): void {
    if (this.state === 'closed') return
    const data: unknown = event.data
    let chunk: Buffer | string
    if (data instanceof ArrayBuffer) chunk = Buffer.from(data)
    else if (typeof data === 'string') chunk = data
    else if (ArrayBuffer.isView(data)) chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    else return this.host.debug('ignoring message of unknown type')
    if (this.held) this.held.push(chunk)
    else this.host.message(chunk)
  }

  private onClose (): void {
    if (this.state === 'closed') return
    this.host.debug('on channel close')
    this.state = 'closed'
    this.timers.clearAll()
    this.host.closed()
  }
}

/** Lets go of a channel: no more events from it, and it is closed. */
export function releaseChannel (channel: RTCDataChannel): void {
  channel.onopen = null
  channel.onclose = null
  channel.onerror = null
  channel.onmessage = null
  channel.onbufferedamountlow = null
  try { channel.close() } catch { /* already closed */ }
}

/** The channel's label, if it can be read. */
export function readLabel (channel: RTCDataChannel): string | undefined {
  try { return channel.label } catch { return undefined }
}

/** The channel's subprotocol, if it can be read. */
export function readProtocol (channel: RTCDataChannel): string | undefined {
  try { return channel.protocol } catch { return undefined }
}

/** The channel's state, if it can be read. */
export function readyState (channel: RTCDataChannel): RTCDataChannelState | undefined {
  try {
    return channel.readyState
  } catch {
    return undefined
  }
}

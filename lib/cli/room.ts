/**
 * `duplex-peer room ROOM`: a terminal chat in a room of `duplex-peer/room`,
 * through the room relay of a `duplex-peer server`. Lines read from stdin are
 * sent to everyone; `/send FILE` sends a file to everyone with a progress bar
 * per peer; files that arrive are saved in the current directory.
 *
 * On the wire (shared with the demo page of `duplex-peer server --demo`):
 * chat lines are strings on label `chat`; a file is its bytes on label
 * `file:NAME`; a member's metadata is `{ name }`.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as readline from 'readline'
import { pipeline } from 'stream/promises'
import { Room, WebSocketDriver, type RoomPeer, type Transfer } from '../../room'
import { CliError, EXIT, messageOf, systemErrorCode, type ExitCode } from './errors'
import { DEFAULT_SERVER, type CliValues } from './options'
import { formatBytes } from './output'
import { USAGE } from './usage'
import { stripesOption } from './connection'

/** Label of chat lines. */
export const CHAT_LABEL = 'chat'
/** Prefix of the label of a file: `file:` and the file's name. */
export const FILE_LABEL_PREFIX = 'file:'
/** How long the relay may take to answer before the command gives up (ms). */
const CONNECT_TIMEOUT = 10e3
/** Longest file name put in a label (bytes of UTF-8; a label is at most 255). */
const MAX_NAME_BYTES = 200

/**
 * Joins room `rest[0]` and runs the chat until `/quit`, the end of stdin
 * (once what was sent has arrived) or SIGINT. Resolves with {@link EXIT.OK}.
 */
export async function room (values: CliValues, rest: string[]): Promise<ExitCode> {
  const [id, ...extra] = rest
  if (!id || extra.length > 0) throw new CliError(`room needs one ROOM\n\n${USAGE}`, EXIT.USAGE)
  const url = relayUrl(values.server ?? process.env.DUPLEX_PEER_SERVER ?? DEFAULT_SERVER)
  const name = cleanText(values.name ?? defaultName()).slice(0, 64) || 'anonymous'
  const driver = new WebSocketDriver({ url, maxReconnectDelay: 2000 })
  const config: RTCConfiguration | undefined = values['no-stun'] ? { iceServers: [] } : undefined
  const stripes = stripesOption(values)
  const chat = new Room({ id, driver, config, stripes })
  const out = (line: string): void => { process.stdout.write(line + '\n') }
  const note = (line: string): void => { if (!values.quiet) process.stderr.write(line + '\n') }
  const pending = new Set<Promise<unknown>>()
  const track = (promise: Promise<unknown>): void => {
    const settled = promise.catch(() => {}).finally(() => pending.delete(settled))
    pending.add(settled)
  }

  chat.on('peer:join', ({ peer }) => out(`* ${nameOf(peer)} joined`))
  chat.on('peer:leave', ({ peer }) => out(`* ${nameOf(peer)} left`))
  chat.on('peer:update', ({ peer }) => out(`* ${peer.id.slice(0, 8)} is now ${nameOf(peer)}`))
  chat.on('connection:failed', ({ peer, error }) => note(`* no connection to ${nameOf(peer)}: ${error.message}`))
  chat.on('channel:error', ({ peer, label, error }) => out(`* ${describe(label)} from ${nameOf(peer)} failed: ${error.code}`))
  chat.on('error', error => note(`* ${error.message}`))
  chat.on('channel:message', ({ peer, label, data }) => {
    track((async () => {
      if (label.startsWith(FILE_LABEL_PREFIX)) {
        // Streamed to disk as it arrives (any size; the reader's pace is the sender's).
        const name = label.slice(FILE_LABEL_PREFIX.length)
        const bytes = await receiveFile(process.cwd(), name, data.nodeStream())
        out(`* ${nameOf(peer)} sent ${cleanText(name)} (${formatBytes(bytes.size)}): saved to ${bytes.path}`)
        return
      }
      const value: unknown = await data
      if (label === CHAT_LABEL && typeof value === 'string') {
        out(`${nameOf(peer)}: ${cleanText(value)}`)
      } else {
        out(`* ${nameOf(peer)} sent a message on ${cleanText(label)}`)
      }
    })().catch(err => {
      // A coded failure (e.g. aborted by the sender) is told by channel:error.
      if (typeof (err as { code?: unknown }).code !== 'string') out(`* a message from ${nameOf(peer)} could not be taken: ${messageOf(err)}`)
    }))
  })

  try {
    await connected(driver, CONNECT_TIMEOUT)
    await chat.join({ name })
  } catch (err) {
    await driver.close()
    throw new CliError(`Cannot join room ${id} at ${url}: ${messageOf(err)}`, EXIT.SERVER)
  }
  note(`Joined room "${id}" at ${url} as ${name}. Type to chat; /send FILE, /who, /quit.`)

  const input = readline.createInterface({ input: process.stdin, terminal: false })
  const done = new Promise<void>(resolve => {
    let quitting = false
    const quit = (): void => {
      if (quitting) return
      quitting = true
      input.close()
      resolve()
    }
    process.once('SIGINT', quit)
    process.once('SIGTERM', quit)
    input.on('close', quit)
    input.on('line', line => {
      const text = line.replace(/\r$/, '')
      if (text === '/quit') return quit()
      if (text === '/who') {
        const here = [...chat.peers.values()].map(p => `${nameOf(p)} (${p.state})`).sort()
        out(here.length > 0 ? `* here: ${here.join(', ')}` : '* nobody else is here')
        return
      }
      if (text.startsWith('/send ')) {
        track(sendFile(chat, text.slice(6).trim(), out))
        return
      }
      if (text.trim() === '') return
      if (chat.peers.size === 0) note('* nobody else is here yet')
      try {
        track(chat.send(text, { label: CHAT_LABEL }).then(undefined, err => out(`* not delivered: ${messageOf(err)}`)))
      } catch (err) {
        out(`* not sent: ${messageOf(err)}`)
      }
    })
  })
  await done
  // What was sent, and files being saved, are finished first.
  while (pending.size > 0) await Promise.all([...pending])
  await chat.leave()
  await driver.close()
  return EXIT.OK
}

/** Resolves once `driver` is connected to the relay; rejects after `ms`. */
function connected (driver: WebSocketDriver, ms: number): Promise<void> {
  if (driver.state === 'active') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      driver.off('state', onState)
      reject(new Error(`no answer from the relay within ${ms / 1000} s`))
    }, ms)
    const onState = (state: string): void => {
      if (state !== 'active') return
      clearTimeout(timer)
      driver.off('state', onState)
      resolve()
    }
    driver.on('state', onState)
  })
}

/** Sends file `file` to everyone, drawing a progress bar per peer on stderr. */
async function sendFile (chat: Room, file: string, out: (line: string) => void): Promise<void> {
  if (!file) return out('* /send needs a FILE')
  let blob: Blob
  try {
    const stat = fs.statSync(file)
    if (!stat.isFile()) return out(`* not a file: ${file}`)
    blob = await fs.openAsBlob(file)
  } catch (err) {
    return out(`* cannot read ${file}: ${systemErrorCode(err) === 'ENOENT' ? 'no such file' : messageOf(err)}`)
  }
  const name = labelName(path.basename(file))
  if (chat.peers.size === 0) return out('* nobody to send to')
  let transfer: Transfer
  try {
    transfer = chat.send(blob, { label: FILE_LABEL_PREFIX + name })
  } catch (err) {
    return out(`* ${file} not sent: ${messageOf(err)}`)
  }
  const bars = new ProgressBars(`${name} →`)
  try {
    for await (const { peer, current, total } of transfer) bars.update(nameOf(peer), current, total ?? blob.size)
    await transfer
    bars.finish()
    out(`* ${name} (${formatBytes(blob.size)}) sent to ${transfer.progress.map(p => nameOf(p.peer)).join(', ')}`)
  } catch (err) {
    bars.finish()
    out(`* ${name} not delivered to everyone: ${messageOf(err)}`)
  }
}

/**
 * Progress bars on stderr, one per peer: redrawn in place on a terminal
 * (ten times a second at most), a line per peer a second in a log.
 */
class ProgressBars {
  private readonly rows = new Map<string, { current: number, total: number }>()
  private readonly tty = !!process.stderr.isTTY
  private drawn = 0
  private last = 0

  constructor (private readonly title: string) {}

  update (peer: string, current: number, total: number): void {
    this.rows.set(peer, { current, total })
    const now = Date.now()
    if (now - this.last >= (this.tty ? 100 : 1000)) this.draw(now)
  }

  finish (): void {
    this.draw(Date.now())
  }

  private draw (now: number): void {
    this.last = now
    const lines = [...this.rows].map(([peer, { current, total }]) => {
      const fraction = total > 0 ? Math.min(1, current / total) : 1
      const filled = Math.round(fraction * 24)
      return `${this.title} ${peer} [${'#'.repeat(filled)}${'-'.repeat(24 - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(current)} / ${formatBytes(total)}`
    })
    if (this.tty) {
      const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : ''
      process.stderr.write(up + lines.map(line => `\r${line}\x1b[K\n`).join(''))
      this.drawn = lines.length
    } else {
      process.stderr.write(lines.join('\n') + '\n')
    }
  }
}

/**
 * The room relay's WebSocket URL from `--server`: an `http(s)://host:port/path`
 * of a duplex-peer server (its relay is at `{path}/rooms`), or a `ws(s)://` URL
 * of the relay itself. A usage error for anything else.
 */
export function relayUrl (server: string): string {
  let url: URL
  try {
    url = new URL(server)
  } catch {
    throw new CliError(`--server must be a URL, e.g. http://localhost:9000/, got "${server}"`, EXIT.USAGE)
  }
  if (url.protocol === 'http:') url.protocol = 'ws:'
  else if (url.protocol === 'https:') url.protocol = 'wss:'
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new CliError(`--server must be an http(s) or ws(s) URL, got "${server}"`, EXIT.USAGE)
  }
  const base = url.pathname.replace(/\/+$/, '')
  if (!base.endsWith('/rooms')) url.pathname = `${base}/rooms`
  url.search = ''
  url.hash = ''
  return url.toString()
}

/**
 * Writes a file received as `name` from `source` into `dir` (a safe name,
 * never over an existing file: `photo.jpg`, then `photo-1.jpg`,
 * `photo-2.jpg`...); a failed transfer leaves
 * no partial file. Resolves with where it went and how many bytes it has.
 */
export async function receiveFile (dir: string, name: string, source: NodeJS.ReadableStream): Promise<{ path: string, size: number }> {
  const file = createFile(dir, name)
  let size = 0
  const counted = async function * (chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of chunks) {
      size += chunk.byteLength
      yield chunk
    }
  }
  try {
    await pipeline(source, counted, fs.createWriteStream('', { fd: file.fd }))
  } catch (err) {
    fs.rmSync(file.path, { force: true })
    throw err
  }
  return { path: file.path, size }
}

/** Creates (exclusively) a file for `name` in `dir`: `name`, else `stem-1.ext`, `stem-2.ext`... */
function createFile (dir: string, name: string): { path: string, fd: number } {
  const safe = safeFileName(name)
  const ext = path.extname(safe)
  const stem = safe.slice(0, safe.length - ext.length)
  for (let n = 0; ; n++) {
    const candidate = path.join(dir, n === 0 ? safe : `${stem}-${n}${ext}`)
    try {
      return { path: candidate, fd: fs.openSync(candidate, 'wx') }
    } catch (err) {
      if (systemErrorCode(err) !== 'EEXIST' || n >= 9999) throw err
    }
  }
}

/** A file name safe to create in the current directory from one a peer gave. */
export function safeFileName (name: string): string {
  const base = name.split(/[\\/]/).pop() ?? ''
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/^[.\s]+/, '').trim()
  const limited = labelName(cleaned)
  return limited === '' ? 'file' : limited
}

/** `name` cut to {@link MAX_NAME_BYTES} of UTF-8 (whole characters). */
function labelName (name: string): string {
  let out = ''
  let bytes = 0
  for (const char of name) {
    bytes += Buffer.byteLength(char)
    if (bytes > MAX_NAME_BYTES) break
    out += char
  }
  return out
}

/** Text from a peer, safe to print on a terminal: control characters (escape sequences) become spaces. */
function cleanText (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, ' ')
}

/** A peer's name: its metadata's `name`, or the start of its id. */
function nameOf (peer: RoomPeer): string {
  const meta = peer.metadata
  const given = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? meta.name : undefined
  return typeof given === 'string' && given.trim() !== '' ? cleanText(given).slice(0, 64) : peer.id.slice(0, 8)
}

function describe (label: string): string {
  return label.startsWith(FILE_LABEL_PREFIX) ? `file ${cleanText(label.slice(FILE_LABEL_PREFIX.length))}` : `a message on ${cleanText(label)}`
}

function defaultName (): string {
  try {
    return os.userInfo().username
  } catch {
    return 'anonymous'
  }
}

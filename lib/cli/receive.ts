/** `duplex-peer receive`: receives one file from a waiting sender (`--from`), or waits for one. */
import * as fs from 'fs'
import * as crypto from 'crypto'
import type { Writable } from 'stream'
import { CliError, EXIT, type ExitCode } from './errors'
import type { CliValues } from './options'
import { register, link, untilClosedOr, stripesOption } from './connection'
import { status, Progress, formatBytes } from './output'
import { parseMessage, type FileHeader, type FileEnd, type Verdict } from './protocol'

/** How long the receiver waits for the sender to close after the verdict (ms). */
const SENDER_CLOSE_TIMEOUT = 10000

/**
 * Receives one file into `--out FILE` or stdout; resolves with
 * {@link EXIT.OK} once its size and SHA-256 match the sender's (and the
 * sender has been told). Rejects with a {@link CliError} otherwise.
 */
export async function receive (values: CliValues): Promise<ExitCode> {
  stripesOption(values) // a bad --stripes is a usage error before anything starts
  const toTerminal = !values.out && process.stdout.isTTY
  if (toTerminal) throw new CliError('Refusing to write a file to the terminal: redirect stdout (> FILE) or use --out FILE.', EXIT.USAGE)
  const registration = await register(values, values.id)
  const server = values.server ? ` --server ${values.server}` : ''
  const conn = await link(registration, values, values.from,
    id => `Waiting for a sender. On the other machine:\n  npx duplex-peer send FILE --to ${id}${server}`)
  const output: Writable = values.out ? fs.createWriteStream(values.out) : process.stdout
  const outputFailed = new Promise<never>((_resolve, reject) => output.once('error', err => reject(new CliError(`Cannot write ${values.out || 'stdout'}: ${err.message}`, EXIT.FAILED))))
  outputFailed.catch(() => {})

  const hash = crypto.createHash('sha256')
  // What has arrived so far (an object: the data listener below fills it in).
  const state: { incoming: { header: FileHeader, progress: Progress } | null, received: number } = { incoming: null, received: 0 }
  const result = await Promise.race([outputFailed, new Promise<FileEnd>((resolve, reject) => {
    conn.on('data', data => {
      if (typeof data === 'string') {
        const message = parseMessage(data)
        if (message?.type === 'file' && !state.incoming) {
          state.incoming = { header: message, progress: new Progress(!!values.quiet, message.size, 'received') }
          status(values.quiet, `Receiving ${message.name} (${formatBytes(message.size)}) from "${conn.peer}".`)
        } else if (message?.type === 'end') {
          resolve(message)
        }
        return
      }
      const { incoming } = state
      if (!incoming || !(data instanceof Uint8Array)) return
      state.received += data.length
      hash.update(data)
      incoming.progress.add(data.length)
      if (!output.write(data)) {
        conn.pause()
        output.once('drain', () => conn.resume())
      }
    })
    conn.once('close', () => {
      const of = state.incoming ? ` of ${formatBytes(state.incoming.header.size)}` : ''
      reject(new CliError(`The connection to "${conn.peer}" closed before the file was complete (${formatBytes(state.received)}${of} received).`, EXIT.FAILED))
    })
  })])
  state.incoming?.progress.finish()
  const { received } = state
  const digest = hash.digest('hex')
  await new Promise<void>(resolve => output === process.stdout ? resolve() : output.end(resolve))
  const mismatch = received !== result.size ? `size mismatch: ${received} of ${result.size} bytes` : digest !== result.sha256 ? 'SHA-256 mismatch' : null
  const reply: Verdict = mismatch === null ? { type: 'ok' } : { type: 'error', message: mismatch }
  await untilClosedOr(conn, done => conn.write(JSON.stringify(reply), done))
  // The sender ends the connection once it has the verdict; this side waits
  // for that rather than ending too. With both ends closing at once, one side's
  // last control message can race the other's teardown, and @roamhq/wrtc may
  // crash in a send() that overlaps the native close.
  await untilClosedOr(conn, done => { setTimeout(done, SENDER_CLOSE_TIMEOUT).unref() })
  registration.peer.destroy()
  if (mismatch !== null) throw new CliError(`Transfer corrupted: ${mismatch} (expected SHA-256 ${result.sha256}, got ${digest}).`, EXIT.FAILED)
  status(values.quiet, `Done: ${formatBytes(received)} received, SHA-256 ${digest} verified.`)
  return EXIT.OK
}

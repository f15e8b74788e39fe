/** `duplex-peer send FILE`: sends a file to a waiting receiver (`--to`), or waits for one. */
import * as fs from 'fs'
import * as path from 'path'
import * as crypto from 'crypto'
import { CliError, EXIT, messageOf, systemErrorCode, type ExitCode } from './errors'
import type { CliValues } from './options'
import { USAGE } from './usage'
import { register, link, untilClosedOr, stripesOption } from './connection'
import { status, Progress, formatBytes } from './output'
import { parseMessage, type FileHeader, type FileEnd, type Verdict } from './protocol'

/** Size of the chunks read from the file, each sent as one message. */
const CHUNK = 64 * 1024

/**
 * Sends the file `rest[0]`; resolves with {@link EXIT.OK} once the receiver
 * has confirmed its SHA-256. Rejects with a {@link CliError} otherwise.
 */
export async function send (values: CliValues, rest: string[]): Promise<ExitCode> {
  stripesOption(values) // a bad --stripes is a usage error before anything starts
  const file = rest[0]
  if (!file) throw new CliError(`send needs a FILE\n\n${USAGE}`, EXIT.USAGE)
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${systemErrorCode(err) === 'ENOENT' ? 'no such file' : messageOf(err)}`, EXIT.USAGE)
  }
  if (!stat.isFile()) throw new CliError(`Not a file: ${file}`, EXIT.USAGE)
  const name = path.basename(file)
  const registration = await register(values, values.id)
  const server = values.server ? ` --server ${values.server}` : ''
  const conn = await link(registration, values, values.to,
    id => `Waiting for a receiver. On the other machine:\n  npx duplex-peer receive --from ${id}${server} > ${name}`)
  status(values.quiet, `Sending ${name} (${formatBytes(stat.size)}) to "${conn.peer}".`)

  const hash = crypto.createHash('sha256')
  const progress = new Progress(!!values.quiet, stat.size, 'sent')
  let verdict: Verdict | null = null
  const answered = new Promise<Verdict>((resolve, reject) => {
    conn.on('data', data => {
      if (typeof data !== 'string') return
      const message = parseMessage(data)
      if (message && (message.type === 'ok' || message.type === 'error')) {
        verdict = message
        resolve(message)
      }
    })
    conn.once('close', () => {
      if (!verdict) reject(new CliError(`The connection to "${conn.peer}" closed before the receiver confirmed the file (${formatBytes(progress.done)} sent).`, EXIT.FAILED))
    })
  })
  answered.catch(() => {})

  const header: FileHeader = { type: 'file', name, size: stat.size }
  conn.write(JSON.stringify(header))
  await new Promise<void>((resolve, reject) => {
    const input = fs.createReadStream(file, { highWaterMark: CHUNK })
    input.on('error', err => reject(new CliError(`Cannot read ${file}: ${err.message}`, EXIT.FAILED)))
    input.on('data', chunk => {
      hash.update(chunk)
      const more = conn.write(chunk, () => progress.add(chunk.length))
      if (!more) {
        input.pause()
        conn.once('drain', () => input.resume())
      }
    })
    input.on('end', resolve)
    conn.once('close', () => reject(new CliError(`The connection to "${conn.peer}" closed during the transfer.`, EXIT.FAILED)))
  })
  const digest = hash.digest('hex')
  const end: FileEnd = { type: 'end', size: stat.size, sha256: digest }
  conn.write(JSON.stringify(end))
  const result = await answered
  progress.finish()
  // Let the end finish (both sides confirm they have everything) before
  // closing: a connection closed while the receiver still answers races
  // @roamhq/wrtc's teardown of the receiver's channel, which can crash it.
  await untilClosedOr(conn, done => conn.end(done))
  registration.peer.destroy()
  if (result.type === 'ok') {
    status(values.quiet, `Done: ${formatBytes(stat.size)} sent, SHA-256 ${digest} confirmed by the receiver.`)
    return EXIT.OK
  }
  throw new CliError(`The receiver reports a failure: ${result.message}`, EXIT.FAILED)
}

/** What the commands print on stderr: status lines and the progress bar. */

/**
 * Prints a status line on stderr. `--quiet` leaves them out, except the
 * `Waiting...` line, which tells the user what to run on the other side.
 */
export function status (quiet: boolean | undefined, message: string): void {
  if (!quiet || /^Waiting/.test(message)) process.stderr.write(message + '\n')
}

/** A progress bar on stderr, with the rate and the time left: redrawn in place on a terminal, one line a second in a log. */
export class Progress {
  /** Bytes done so far. */
  done = 0
  private readonly quiet: boolean
  private readonly total: number
  private readonly verb: string
  private readonly start = Date.now()
  private lastDraw = 0
  private readonly tty = !!process.stderr.isTTY

  /** `total` bytes are to be transferred; `verb` (`'sent'`, `'received'`) says what is done with them. */
  constructor (quiet: boolean, total: number, verb: string) {
    this.quiet = quiet
    this.total = total
    this.verb = verb
  }

  /** Counts `bytes` more done, and redraws if it is time. */
  add (bytes: number): void {
    this.done += bytes
    const now = Date.now()
    // A terminal is redrawn ten times a second; a log gets a line a second.
    if (now - this.lastDraw >= (this.tty ? 100 : 1000)) this.draw(now)
  }

  /** Draws the final state, with the total time taken. */
  finish (): void {
    this.draw(Date.now(), true)
  }

  private draw (now: number, final = false): void {
    if (this.quiet) return
    this.lastDraw = now
    const seconds = Math.max(0.001, (now - this.start) / 1000)
    const rate = this.done / seconds
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1
    const width = 24
    const filled = Math.round(fraction * width)
    const eta = rate > 0 && !final ? formatDuration((this.total - this.done) / rate) : final ? formatDuration(seconds) : '--'
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
      `${formatBytes(this.done)} / ${formatBytes(this.total)} ${this.verb}  ${formatBytes(rate)}/s  ${final ? 'in' : 'ETA'} ${eta}`
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`)
    else process.stderr.write(line + '\n')
  }
}

/** `n` bytes in binary units: `512 B`, `1.5 KiB`, `3.0 MiB`... */
export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

/** A duration: `42s`, `3m07s`, `2h05m`; `--` if unknown (not finite). */
export function formatDuration (seconds: number): string {
  if (!isFinite(seconds)) return '--'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
}

/**
 * Logging as PeerJS's `debug` option sets it: 0 none, 1 errors, 2 warnings
 * too, 3 everything. Everything also goes to the `duplex-peer:peerjs` debug
 * namespace.
 */
import createDebug = require('debug')

/** PeerJS's log levels. */
export const LogLevel = {
  /** Nothing. */
  Disabled: 0,
  /** Errors only. */
  Errors: 1,
  /** Errors and warnings. */
  Warnings: 2,
  /** Everything. */
  All: 3
} as const

const trace = createDebug('duplex-peer:peerjs')

export class Logger {
  constructor (private readonly level: number, private readonly prefix = 'duplex-peer/peerjs:') {}

  log (message: string): void {
    trace(message)
    if (this.level >= LogLevel.All) console.log(this.prefix, message)
  }

  warn (message: string): void {
    trace('warning: ' + message)
    if (this.level >= LogLevel.Warnings) console.warn(this.prefix, message)
  }

  error (message: string): void {
    trace('error: ' + message)
    if (this.level >= LogLevel.Errors) console.error(this.prefix, message)
  }
}

/**
 * Browser replacement for the `debug` package: browser builds
 * (`npm run build:browser`) substitute this file for `require('debug')`,
 * which saves about 1.7 KB gzipped. Node uses the real package.
 *
 * Logs are enabled as with `debug`: namespaces from `localStorage.debug` (or
 * `localStorage.DEBUG`, or `process.env.DEBUG` where a `process` global
 * exists), read when the script loads, comma- or space-separated, `*` as a
 * wildcard and `-` to exclude, e.g. `localStorage.debug = 'duplex-peer*'`.
 * An enabled namespace logs with `console.debug` the way `debug` does in a
 * browser: `%c<namespace> %c<message>%c +<ms>`, coloured, with `%s`, `%d`,
 * `%o`, `%O`, `%c` left to the console, `%j` as JSON and `%%` as `%`.
 *
 * What duplex-peer does not use is left out: `enable()`/`disable()` at run
 * time, `extend()`, custom formatters and `log` overrides.
 */

// Declared as debug's own types declare it, so code typed against debug's fits.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace createDebug {
  /** A logger for one namespace, called like `console.log`. */
  interface Debugger {
    (format?: unknown, ...args: unknown[]): void
    /** The namespace given to `createDebug()`. */
    readonly namespace: string
    /** Whether this namespace was enabled when the script loaded. */
    readonly enabled: boolean
  }
}

/** A namespace list split into `[included, excluded]`, each a RegExp per pattern. */
function parse (namespaces: string): [RegExp[], RegExp[]] {
  const names: RegExp[] = []
  const skips: RegExp[] = []
  for (const ns of namespaces.trim().split(/[\s,]+/)) {
    if (ns === '') continue
    const skip = ns[0] === '-'
    const pattern = (skip ? ns.slice(1) : ns).replace(/[\\^$+?.()|[\]{}]/g, '\\$&').replace(/\*/g, '.*?')
    ;(skip ? skips : names).push(new RegExp(`^${pattern}$`))
  }
  return [names, skips]
}

function load (): string {
  let value: string | null | undefined
  try {
    value = localStorage.getItem('debug') || localStorage.getItem('DEBUG')
  } catch { /* no localStorage, or no access to it: DEBUG below */ }
  if (!value && typeof process !== 'undefined' && process.env) value = process.env.DEBUG
  return typeof value === 'string' ? value : ''
}

const [names, skips] = parse(load())

/** `+12ms`, `+3s`, `+2m`, `+1h`, `+4d`, as `debug` (through `ms`) prints it. */
function humanize (ms: number): string {
  for (const [unit, size] of [['d', 864e5], ['h', 36e5], ['m', 6e4], ['s', 1e3]] as const) {
    if (Math.abs(ms) >= size) return `${Math.round(ms / size)}${unit}`
  }
  return `${ms}ms`
}

/** Creates the logger for `namespace`. */
function createDebug (namespace: string): createDebug.Debugger {
  const enabled = !skips.some(re => re.test(namespace)) && names.some(re => re.test(namespace))
  let hash = 0
  for (let i = 0; i < namespace.length; i++) hash = (hash * 31 + namespace.charCodeAt(i)) | 0
  const color = `color: hsl(${Math.abs(hash) % 360}, 70%, 45%)`
  let prev: number | undefined

  const debug = (...args: unknown[]): void => {
    if (!enabled) return
    const now = Date.now()
    const diff = now - (prev ?? now)
    prev = now
    if (args[0] instanceof Error) args[0] = args[0].stack ?? args[0].message
    if (typeof args[0] !== 'string') args.unshift('%O')
    // Placeholders as the console reads them, so that the colour of the
    // `+<ms>` suffix goes after every argument they consume.
    let index = 0
    const format = (args[0] as string).replace(/%([a-zA-Z%])/g, (match, letter: string) => {
      if (letter === '%') return '%'
      index++
      if (letter !== 'j') return match
      let json: string
      try {
        json = JSON.stringify(args[index])
      } catch (err) {
        json = `[UnexpectedJSONParseError]: ${(err as Error).message}`
      }
      args.splice(index--, 1)
      return json
    })
    args[0] = `%c${namespace} %c${format}%c +${humanize(diff)}`
    args.splice(1, 0, color, 'color: inherit')
    args.splice(index + 3, 0, color)
    ;(console.debug ?? console.log).apply(console, args)
  }
  return Object.assign(debug, { namespace, enabled })
}

export = createDebug

/**
 * Optional peer dependencies (the Redis and NATS clients): loaded only by
 * the code that needs them, the first time it runs. A missing one is an
 * error with code `ERR_MISSING_DEPENDENCY` naming the package to install.
 */
import errCode = require('err-code')

/** Code of the error thrown when an optional dependency is not installed. */
export const MISSING_DEPENDENCY = 'ERR_MISSING_DEPENDENCY'

/**
 * `require(name)`, or an error naming the package and what needs it.
 *
 * @param name - the package
 * @param feature - what needs it, for the message (e.g. "PeerServer option redis")
 */
export function requireOptional<T> (name: string, feature: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code
    if (code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${name}'`)) {
      throw errCode(new Error(`${feature} needs the package "${name}": npm install ${name}`), MISSING_DEPENDENCY)
    }
    throw err
  }
}

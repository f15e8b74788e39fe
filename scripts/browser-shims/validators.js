'use strict'
// Browser builds only (scripts/build-browser.js): stands in for
// readable-stream's lib/internal/validators.js, of which the modules a
// Duplex loads use five validators. Same checks, and the same errors from
// readable-stream's own errors module.
const { codes: { ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE } } = require('readable-stream/lib/ours/errors')

const own = (options, key) => options != null && Object.prototype.hasOwnProperty.call(options, key) && options[key]

module.exports = {
  validateObject (value, name, options = null) {
    if ((value === null && !own(options, 'nullable')) ||
        (Array.isArray(value) && !own(options, 'allowArray')) ||
        (typeof value !== 'object' && (typeof value !== 'function' || !own(options, 'allowFunction')))) {
      throw new ERR_INVALID_ARG_TYPE(name, 'Object', value)
    }
  },
  validateAbortSignal (signal, name) {
    if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
      throw new ERR_INVALID_ARG_TYPE(name, 'AbortSignal', signal)
    }
  },
  validateFunction (value, name) {
    if (typeof value !== 'function') throw new ERR_INVALID_ARG_TYPE(name, 'Function', value)
  },
  validateBoolean (value, name) {
    if (typeof value !== 'boolean') throw new ERR_INVALID_ARG_TYPE(name, 'boolean', value)
  },
  validateInteger (value, name, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
    if (typeof value !== 'number') throw new ERR_INVALID_ARG_TYPE(name, 'number', value)
    if (!Number.isInteger(value)) throw new ERR_OUT_OF_RANGE(name, 'an integer', value)
    if (value < min || value > max) throw new ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value)
  }
}

'use strict'
// Browser builds only (scripts/build-browser.js): stands in for the `process`
// package, of which readable-stream uses nothing but process.nextTick().
// Same scheduling as the package's browser build: callbacks are queued and
// the queue is drained, in order, from one setTimeout(0); callbacks queued
// while it drains run in the same drain; if one throws, the error escapes
// (as an uncaught error) and the rest run from a new setTimeout.
const queue = []
let next = 0
let scheduled = false

function drain () {
  try {
    while (next < queue.length) {
      const [fn, args] = queue[next]
      queue[next++] = undefined
      fn.apply(null, args)
    }
  } finally {
    if (next < queue.length) {
      setTimeout(drain, 0)
    } else {
      queue.length = next = 0
      scheduled = false
    }
  }
}

function nextTick (fn, ...args) {
  queue.push([fn, args])
  if (!scheduled) {
    scheduled = true
    setTimeout(drain, 0)
  }
}

module.exports = { nextTick }

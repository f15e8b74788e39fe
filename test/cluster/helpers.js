'use strict'
// Helpers of the cluster tests: server nodes in child processes or in this
// one, all on one test Redis.
const { fork } = require('child_process')
const path = require('path')
const { PeerServer } = require('../../dist/server.js')
const { HOST } = require('./servers')

/**
 * Starts a node in a child process. Resolves with { port, child, close(), kill() }:
 * `close()` stops it cleanly, `kill()` with SIGKILL.
 */
function startNodeProcess (options) {
  const child = fork(path.join(__dirname, 'node.js'), [JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const exited = new Promise(resolve => child.once('exit', resolve))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => reject(new Error(`node exited with ${code} before it listened`)))
    child.once('message', ({ port }) => resolve({
      port,
      child,
      close () {
        if (child.exitCode === null && child.signalCode === null) child.send('close')
        return exited
      },
      kill () {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
        return exited
      }
    }))
  })
}

/** Starts a node in this process. Resolves with { instance, port, close() }. */
function startNode (options) {
  return new Promise((resolve, reject) => {
    const instance = PeerServer({ port: 0, host: HOST, ...options }, server => {
      resolve({ instance, port: server.address().port, close: () => new Promise(r => instance.close(() => r())) })
    })
    instance.once('error', reject)
  })
}

/** Resolves after `ms` (to let time pass, never to assert on it). */
function sleep (ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** Calls `check` until it resolves truthy (polling every `every` ms); resolves with its value. */
async function until (check, every = 50) {
  for (;;) {
    const value = await check()
    if (value) return value
    await sleep(every)
  }
}

module.exports = { startNodeProcess, startNode, sleep, until }

'use strict'
const test = require('tape')
const { checkConfiguration } = require('../dist/lib/validation')

test('checkConfiguration accepts valid ICE servers', t => {
  t.equal(checkConfiguration({}), null, 'no iceServers')
  t.equal(checkConfiguration({ iceServers: [] }), null, 'empty list')
  t.equal(checkConfiguration({ iceServers: [{ urls: 'stun:example.org:3478' }] }), null, 'one STUN url')
  t.equal(checkConfiguration({ iceServers: [{ urls: ['stun:a.example', 'stuns:b.example'] }] }), null, 'several')
  t.equal(checkConfiguration({ iceServers: [{ urls: 'turn:t.example?transport=tcp', username: 'u', credential: 'p' }] }), null, 'TURN with credentials')
  t.end()
})

test('checkConfiguration rejects what would make the native constructor throw', t => {
  const bad = [
    { iceServers: 'stun:x' },
    { iceServers: [null] },
    { iceServers: [{ urls: 'not-a-url' }] },
    { iceServers: [{ urls: ['stun:ok', 42] }] },
    { iceServers: [{ urls: [] }] },
    { iceServers: [{ urls: 'http://example.org' }] },
    { iceServers: [{ urls: 'turn:t.example' }] }
  ]
  for (const config of bad) t.equal(typeof checkConfiguration(config), 'string', `rejected: ${JSON.stringify(config)}`)
  t.end()
})

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

test('repairConnectionLines sets each c= line\'s address type from its address', t => {
  const { repairConnectionLines } = require('../dist/lib/validation')
  const seen = 'v=0\r\nm=application 47393 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP6 192.0.2.2\r\na=mid:0\r\n'
  t.equal(repairConnectionLines(seen), seen.replace('c=IN IP6 192.0.2.2', 'c=IN IP4 192.0.2.2'), 'the line libwebrtc was seen to make')
  t.equal(repairConnectionLines('c=IN IP4 fd00::2\r\n'), 'c=IN IP6 fd00::2\r\n', 'IPv6 address marked IPv4')
  t.equal(repairConnectionLines('c=IN IP4 0.0.0.0\nc=IN IP6 ::1\n'), 'c=IN IP4 0.0.0.0\nc=IN IP6 ::1\n', 'right lines unchanged, \\n endings too')
  t.equal(repairConnectionLines('c=IN IP4 224.2.1.1/127\r\n'), 'c=IN IP4 224.2.1.1/127\r\n', 'a TTL suffix is kept')
  t.equal(repairConnectionLines('c=IN IP6 host.example\r\n'), 'c=IN IP6 host.example\r\n', 'a name is left alone')
  t.equal(repairConnectionLines('a=x c=IN IP6 1.2.3.4\r\n'), 'a=x c=IN IP6 1.2.3.4\r\n', 'only whole c= lines')
  t.end()
})

'use strict'
// Unit tests of lib/signal.ts: parseSignal() and removeTrickleOption().
const test = require('tape')
const wrtc = require('@roamhq/wrtc')
const { parseSignal, removeTrickleOption } = require('../dist/lib/signal')

const SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=ice-options:trickle',
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  ''
].join('\r\n')

const CANDIDATE = {
  candidate: 'candidate:1510613869 1 udp 2122063615 127.0.0.1 52996 typ host generation 0 ufrag abcd network-id 3',
  sdpMLineIndex: 0,
  sdpMid: '0'
}

test('parseSignal: offers and answers, as objects and as JSON text', t => {
  for (const type of ['offer', 'answer', 'pranswer', 'rollback']) {
    const signal = { type, sdp: SDP }
    const expected = { renegotiate: false, description: { type, sdp: SDP } }
    t.deepEqual(parseSignal(signal), expected, `${type} object`)
    t.deepEqual(parseSignal(JSON.stringify(signal)), expected, `${type} JSON`)
  }
  const withExtras = parseSignal({ type: 'offer', sdp: SDP, extra: 1, sessionId: 'x' })
  t.deepEqual(Object.keys(withExtras.description).sort(), ['sdp', 'type'], 'only type and sdp are kept in the description')
  t.end()
})

test('parseSignal: candidates, nested (as simple-peer sends them) and flattened', t => {
  const nested = { type: 'candidate', candidate: { ...CANDIDATE } }
  t.deepEqual(parseSignal(nested), { renegotiate: false, candidate: CANDIDATE }, 'nested object')
  t.deepEqual(parseSignal(JSON.stringify(nested)), { renegotiate: false, candidate: CANDIDATE }, 'nested JSON')
  t.deepEqual(parseSignal({ candidate: { ...CANDIDATE } }), { renegotiate: false, candidate: CANDIDATE }, 'nested, without type')

  const flat = { candidate: CANDIDATE.candidate, sdpMid: '0', sdpMLineIndex: 0 }
  const parsedFlat = parseSignal(flat)
  t.equal(parsedFlat.candidate.candidate, CANDIDATE.candidate, 'flattened: candidate line')
  t.equal(parsedFlat.candidate.sdpMid, '0', 'flattened: sdpMid')
  t.equal(parsedFlat.candidate.sdpMLineIndex, 0, 'flattened: sdpMLineIndex')
  t.equal(parsedFlat.renegotiate, false, 'flattened: no renegotiation')
  t.equal(parsedFlat.description, undefined, 'flattened: no description')
  t.deepEqual(parseSignal(JSON.stringify(flat)).candidate, parsedFlat.candidate, 'flattened JSON')

  const wrongTypes = parseSignal({ candidate: CANDIDATE.candidate, sdpMid: 0, sdpMLineIndex: '0' })
  t.equal(wrongTypes.candidate.candidate, CANDIDATE.candidate, 'flattened with wrong-typed fields: line kept')
  t.equal(wrongTypes.candidate.sdpMid, undefined, 'non-string sdpMid dropped')
  t.equal(wrongTypes.candidate.sdpMLineIndex, undefined, 'non-number sdpMLineIndex dropped')
  t.end()
})

test('parseSignal: renegotiate and transceiverRequest', t => {
  const renegotiate = { type: 'renegotiate', renegotiate: true }
  t.deepEqual(parseSignal(renegotiate), { renegotiate: true }, 'renegotiate object')
  t.deepEqual(parseSignal(JSON.stringify(renegotiate)), { renegotiate: true }, 'renegotiate JSON')
  t.deepEqual(parseSignal({ renegotiate: 'x' }), { renegotiate: true }, 'any truthy renegotiate counts, as in simple-peer')

  const request = { type: 'transceiverRequest', transceiverRequest: { kind: 'video', init: { direction: 'recvonly' } } }
  for (const [label, input] of [['object', request], ['JSON', JSON.stringify(request)]]) {
    const parsed = parseSignal(input)
    t.equal(parsed.renegotiate, false, `transceiverRequest ${label}: no renegotiation`)
    t.equal(parsed.transceiverRequest.kind, 'video', `transceiverRequest ${label}: kind`)
    t.deepEqual(parsed.transceiverRequest.init, { direction: 'recvonly' }, `transceiverRequest ${label}: init`)
    t.equal(parsed.candidate, undefined, `transceiverRequest ${label}: no candidate`)
    t.equal(parsed.description, undefined, `transceiverRequest ${label}: no description`)
  }
  const noInit = parseSignal({ transceiverRequest: { kind: 'audio' } })
  t.equal(noInit.transceiverRequest.kind, 'audio', 'without init: kind')
  t.equal(noInit.transceiverRequest.init, undefined, 'without init: init undefined')
  t.equal(parseSignal({ transceiverRequest: { kind: 'audio', init: 42 } }).transceiverRequest.init, undefined, 'a non-object init is dropped')

  const both = parseSignal({ renegotiate: true, candidate: { ...CANDIDATE } })
  t.equal(both.renegotiate, true, 'combined: renegotiate')
  t.deepEqual(both.candidate, CANDIDATE, 'combined: candidate')
  t.end()
})

test('parseSignal: invalid inputs give null', t => {
  const invalid = [
    ['null', null],
    ['undefined', undefined],
    ['0', 0],
    ['42', 42],
    ['NaN', NaN],
    ['true', true],
    ['false', false],
    ['a function', () => {}],
    ['a symbol', Symbol('offer')],
    ['a bigint', 10n],
    ['an empty array', []],
    ['an array holding an offer', [{ type: 'offer', sdp: SDP }]],
    ['{}', {}],
    ['a null-prototype empty object', Object.create(null)],
    ['empty string', ''],
    ['non-JSON text', 'not json'],
    ['JSON number', '42'],
    ['JSON null', 'null'],
    ['JSON array', '[]'],
    ['JSON string', '"offer"'],
    ['JSON empty object', '{}'],
    ['truncated JSON', JSON.stringify({ type: 'offer', sdp: SDP }).slice(0, 30)],
    ['offer without sdp', { type: 'offer' }],
    ['offer with empty sdp', { type: 'offer', sdp: '' }],
    ['offer with numeric sdp', { type: 'offer', sdp: 42 }],
    ['answer with numeric sdp', { type: 'answer', sdp: 42 }],
    ['answer with object sdp', { type: 'answer', sdp: { sdp: SDP } }],
    ['answer with array sdp', { type: 'answer', sdp: [SDP] }],
    ['sdp without type', { sdp: 'garbage' }],
    ['sdp with unknown type', { type: 'bogus', sdp: SDP }],
    ['sdp with type "candidate"', { type: 'candidate', sdp: SDP }],
    ['sdp with numeric type', { type: 5, sdp: SDP }],
    ['a valid candidate beside a bad sdp', { candidate: { ...CANDIDATE }, sdp: 42 }],
    ['type candidate without candidate', { type: 'candidate' }],
    ['empty candidate text', { candidate: '' }],
    ['numeric candidate', { candidate: 5 }],
    ['null candidate', { candidate: null }],
    ['renegotiate false', { type: 'renegotiate', renegotiate: false }],
    ['renegotiate 0', { renegotiate: 0 }],
    ['transceiverRequest as a string', { transceiverRequest: 'video' }],
    ['transceiverRequest with numeric kind', { transceiverRequest: { kind: 5 } }],
    ['transceiverRequest without kind', { type: 'transceiverRequest', transceiverRequest: { init: {} } }],
    ['null transceiverRequest', { transceiverRequest: null }]
  ]
  for (const [label, input] of invalid) {
    let result
    t.doesNotThrow(() => { result = parseSignal(input) }, `${label}: does not throw`)
    t.equal(result, null, `${label}: null`)
  }
  t.end()
})

test('removeTrickleOption removes every a=ice-options:trickle line and nothing else', t => {
  const without = removeTrickleOption(SDP)
  t.notOk(without.includes('a=ice-options:trickle'), 'the option is gone')
  t.equal(without, SDP.replace('a=ice-options:trickle\r\n', ''), 'every other line is untouched')

  const twoSections = SDP + SDP.split('\r\n').slice(5).join('\r\n')
  t.equal(twoSections.split('a=ice-options:trickle').length - 1, 2, 'the test SDP has the option twice')
  t.notOk(removeTrickleOption(twoSections).includes('a=ice-options:trickle'), 'every occurrence is removed')
  t.equal(removeTrickleOption(twoSections).length, twoSections.length - 2 * 'a=ice-options:trickle\r\n'.length, 'exactly those lines')

  const plain = SDP.replace('a=ice-options:trickle\r\n', '')
  t.equal(removeTrickleOption(plain), plain, 'an SDP without the option is returned unchanged')
  const other = SDP.replace('a=ice-options:trickle', 'a=ice-options:renomination')
  t.equal(removeTrickleOption(other), other, 'other ICE options are kept')
  t.equal(removeTrickleOption(''), '', 'empty SDP')
  t.end()
})

test('removeTrickleOption on an SDP made by @roamhq/wrtc', async t => {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] })
  try {
    pc.createDataChannel('x')
    const { sdp } = await pc.createOffer()
    t.ok(sdp.includes('a=ice-options:trickle\r\n'), 'wrtc offers carry the trickle option')
    const stripped = removeTrickleOption(sdp)
    t.notOk(stripped.includes('ice-options:trickle'), 'removed')
    t.deepEqual(stripped.split('\r\n'), sdp.split('\r\n').filter(line => line !== 'a=ice-options:trickle'), 'only that line removed')
    await pc.setLocalDescription({ type: 'offer', sdp: stripped })
    t.pass('the stripped SDP is accepted by setLocalDescription')
  } finally {
    pc.close()
  }
})

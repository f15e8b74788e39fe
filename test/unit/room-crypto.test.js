'use strict'
// The cryptography of room signaling (lib/room/crypto.ts): room keys from
// id and password, session key pairs, pair keys both sides agree on, sealed
// boxes bound to their additional data, proofs; bad input gives null/false.
const test = require('tape')
const { lib } = require('./fakes')
const {
  deriveRoomKeys, generateSessionKeys, derivePairKey, seal, open, prove, checkProof,
  toBase64, fromBase64, randomBytes, utf8, PUBLIC_KEY_BYTES
} = lib('room/crypto.js')

const dec = new TextDecoder()

test('room crypto: a pair key both sides agree on; bound to the room secret and the additional data', async t => {
  const keys = await deriveRoomKeys('room', 'pw')
  const a = await generateSessionKeys()
  const b = await generateSessionKeys()
  t.equal(a.publicKey.byteLength, PUBLIC_KEY_BYTES, 'a raw P-256 public key')
  t.match(a.fingerprint, /^[0-9a-f]{32}$/, 'a fingerprint of 32 hex digits')
  t.notEqual(a.fingerprint, b.fingerprint, 'each session its own key')
  const ab = await derivePairKey(a, b.publicKey, keys)
  const ba = await derivePairKey(b, a.publicKey, keys)
  const box = await seal(ab, utf8('secret'), 'context')
  t.equal(dec.decode(await open(ba, box, 'context')), 'secret', 'what one side seals, the other opens')
  t.equal(await open(ba, box, 'other context'), null, 'not with other additional data')
  const tampered = box.slice()
  tampered[tampered.length - 1] ^= 1
  t.equal(await open(ba, tampered, 'context'), null, 'not once tampered')
  t.equal(await open(ba, box.subarray(0, 27), 'context'), null, 'not when too short')
  const other = await deriveRoomKeys('room', 'another pw')
  const abOther = await derivePairKey(a, b.publicKey, other)
  t.equal(await open(abOther, box, 'context'), null, 'the pair key depends on the password')
  const c = await generateSessionKeys()
  t.equal(await open(await derivePairKey(c, b.publicKey, keys), box, 'context'), null, 'and on both key pairs')
  t.equal(await derivePairKey(a, new Uint8Array(PUBLIC_KEY_BYTES).fill(4), keys), null, 'an invalid point gives null')
  t.equal(await derivePairKey(a, new Uint8Array(10), keys), null, 'a key of the wrong length gives null')
})

test('room crypto: room keys and proofs', async t => {
  const one = await deriveRoomKeys('room', 'pw')
  const two = await deriveRoomKeys('room', 'pw')
  const otherRoom = await deriveRoomKeys('room2', 'pw')
  const open1 = await deriveRoomKeys('room')
  const open2 = await deriveRoomKeys('room')
  const proof = await prove(one.proof, 'transcript')
  t.ok(await checkProof(two.proof, proof, 'transcript'), 'same id and password: the same proof key')
  t.notOk(await checkProof(two.proof, proof, 'transcript!'), 'a proof of another transcript fails')
  t.notOk(await checkProof(otherRoom.proof, proof, 'transcript'), 'another room id: another proof key')
  t.notOk(await checkProof(open1.proof, proof, 'transcript'), 'no password: another proof key')
  t.ok(await checkProof(open2.proof, await prove(open1.proof, 'x'), 'x'), 'without a password, members of a room agree too')
  t.notOk(await checkProof(one.proof, proof.subarray(0, 31), 'transcript'), 'a short proof fails')
  const box = await seal(one.announce, utf8('{"from":"a"}'), 'aad')
  t.equal(dec.decode(await open(two.announce, box, 'aad')), '{"from":"a"}', 'announces open with the same password')
  t.equal(await open(otherRoom.announce, box, 'aad'), null, 'not with another room id')
  t.deepEqual([...one.pairSalt], [...two.pairSalt], 'the same pair salt')
})

test('room crypto: base64url round-trips; anything else is null', t => {
  for (let n = 0; n < 70; n++) {
    const bytes = randomBytes(n)
    const text = toBase64(bytes)
    if (!/^[A-Za-z0-9_-]*$/.test(text)) t.fail(`not base64url: ${text}`)
    if (toBase64(fromBase64(text)) !== text || fromBase64(text).byteLength !== n) t.fail(`no round trip for ${n} bytes`)
  }
  t.pass('0 to 69 bytes round-trip')
  for (const bad of [null, 1, 'a', 'ab=', 'a b', 'ab+/', '€']) t.equal(fromBase64(bad), null, `${JSON.stringify(bad)} is not base64url`)
  t.end()
})

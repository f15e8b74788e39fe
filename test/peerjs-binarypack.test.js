'use strict'
// BinaryPack and chunking: ours against peerjs-js-binarypack (what PeerJS 1.5 uses), both ways.
const test = require('tape')
const crypto = require('crypto')
const reference = require('peerjs-js-binarypack')
const { pack, unpack, CHUNK_SIZE } = require('../dist/peerjs.js')
const { createSerializer } = require('../dist/lib/peerjs/serialization.js')

const VALUES = [
  0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER,
  -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 40),
  0.5, -1.25, Math.PI, 1e-300, 1.7976931348623157e308,
  '', 'a', 'x'.repeat(15), 'x'.repeat(16), 'y'.repeat(70000), 'héllo wörld ✓ 😀',
  true, false, null,
  [], [1, [2, [3, []]]], new Array(20).fill('z'),
  {}, { a: 1, b: 'two', c: [null, true], d: { e: { f: 'deep' } } },
  Object.fromEntries(Array.from({ length: 20 }, (_, i) => ['k' + i, i]))
]

test('our encoding decodes with peerjs-js-binarypack, theirs with ours', t => {
  for (const value of VALUES) {
    const label = JSON.stringify(value).slice(0, 40)
    t.deepEqual(reference.unpack(toArrayBuffer(pack(value))), value, `ours → theirs: ${label}`)
    let theirs
    try { theirs = reference.pack(value) } catch { continue } // PeerJS cannot pack integral doubles above 2^64
    t.deepEqual(unpack(theirs), value, `theirs → ours: ${label}`)
  }
  t.end()
})

test('bytes: ArrayBuffer, typed arrays and Buffers travel as binary', t => {
  for (const size of [0, 15, 16, 65535, 65536, 100000]) {
    const bytes = crypto.randomBytes(size)
    const theirs = reference.unpack(toArrayBuffer(pack(bytes)))
    t.ok(Buffer.from(theirs).equals(bytes), `${size} bytes: ours → theirs`)
    const ours = unpack(reference.pack(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + size)))
    t.ok(ours instanceof Uint8Array && Buffer.from(ours).equals(bytes), `${size} bytes: theirs → ours`)
  }
  const floats = new Float32Array([1.5, -2])
  t.deepEqual(new Float32Array(reference.unpack(toArrayBuffer(pack(floats)))), floats, 'a Float32Array goes as its bytes')
  t.equal(unpack(pack(new Date(0))), new Date(0).toString(), 'a Date goes as its string, as in PeerJS')
  t.equal(unpack(pack(undefined)), null, 'undefined goes as null, as in PeerJS')
  t.end()
})

test('malformed input is refused with an error, never a huge allocation', t => {
  t.throws(() => unpack(new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff])), /truncated/, 'bytes longer than the message')
  t.throws(() => unpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])), /longer than the message/, 'array longer than the message')
  t.throws(() => unpack(new Uint8Array([0xdf, 0x7f, 0xff, 0xff, 0xff, 1])), /longer than the message/, 'map longer than the message')
  t.throws(() => unpack(new Uint8Array(100000).fill(0x91)), /nested too deeply/, 'deep nesting')
  t.throws(() => unpack(new Uint8Array([])), /truncated/, 'empty message')
  const evil = unpack(pack({ ['__proto__']: { polluted: true } }))
  t.equal({}.polluted, undefined, 'a __proto__ key does not pollute prototypes')
  t.ok(Object.prototype.hasOwnProperty.call(evil, '__proto__'), 'it is kept as a plain key')
  t.throws(() => pack(() => 1), /not supported/, 'functions cannot be packed')
  t.throws(() => pack(10n), /not supported/, 'bigints cannot be packed')
  t.end()
})

test('chunking: a large binary value becomes PeerJS chunk messages, and theirs reassemble here', t => {
  const big = crypto.randomBytes(100000)
  const sender = createSerializer('binary')
  const pieces = sender.encode(big)
  t.equal(pieces.length, Math.ceil(pack(big).length / CHUNK_SIZE), `${pieces.length} pieces of at most ${CHUNK_SIZE} bytes`)
  const decodedPieces = pieces.map(p => reference.unpack(toArrayBuffer(p)))
  t.deepEqual(decodedPieces.map(p => [p.__peerData, p.n, p.total]), pieces.map((_, n) => [1, n, pieces.length]), 'PeerJS chunk fields: { __peerData: 1, n, total }')
  const joined = Buffer.concat(decodedPieces.map(p => Buffer.from(p.data)))
  t.ok(Buffer.from(reference.unpack(toArrayBuffer(joined))).equals(big), 'PeerJS can put them back together')

  // PeerJS's own chunks, out of order, with a duplicate: reassembled here.
  const packed = new Uint8Array(reference.pack({ file: big, name: 'x' }))
  const theirPieces = []
  for (let n = 0, start = 0; start < packed.length; n++, start += CHUNK_SIZE) {
    theirPieces.push(new Uint8Array(reference.pack({ __peerData: 7, n, data: packed.slice(start, start + CHUNK_SIZE), total: Math.ceil(packed.length / CHUNK_SIZE) })))
  }
  const receiver = createSerializer('binary', { bytes: b => Buffer.from(b) })
  const order = theirPieces.map((_, i) => i).reverse()
  order.splice(1, 0, order[0])
  const results = order.flatMap(i => receiver.decode(theirPieces[i]))
  t.equal(results.length, 1, 'one value once every piece is in')
  t.equal(results[0].value.name, 'x', 'decoded')
  t.ok(results[0].value.file.equals(big), 'intact')

  const close = receiver.decode(new Uint8Array(reference.pack({ __peerData: { type: 'close' } })))
  t.deepEqual(close, [{ kind: 'close' }], 'PeerJS\'s close message is understood')
  t.equal(receiver.decode(new Uint8Array(reference.pack({ __peerData: 9, n: 5, data: new Uint8Array(1), total: 2 })))[0].kind, 'error', 'a chunk index out of range is refused')
  t.end()
})

test('json and raw serializations: PeerJS\'s wire format', t => {
  const json = createSerializer('json')
  const [message] = json.encode({ a: 1 })
  t.ok(message instanceof Uint8Array, 'JSON goes as UTF-8 bytes, as PeerJS sends it')
  t.equal(Buffer.from(message).toString(), '{"a":1}', 'plain JSON text')
  t.deepEqual(json.decode(message), [{ kind: 'data', value: { a: 1 } }], 'and back')
  t.equal(json.decode(new Uint8Array([0x7b]))[0].kind, 'error', 'bad JSON is reported, not thrown')
  t.throws(() => json.encode('x'.repeat(CHUNK_SIZE)), /too big/, 'PeerJS\'s JSON size limit')
  const raw = createSerializer('none')
  t.equal(raw.name, 'raw', '"none" is PeerJS\'s "raw"')
  t.deepEqual(raw.encode('text'), ['text'], 'strings as they are')
  t.throws(() => raw.encode({ not: 'bytes' }), /raw serialization/, 'objects refused')
  t.throws(() => createSerializer('msgpack'), /Unknown serialization/, 'unknown serialization')
  t.end()
})

function toArrayBuffer (bytes) {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
}

'use strict'
// FlowControl (lib/flow.ts) against a fake control channel, a fake sender
// and a fake clock.
const test = require('tape')
const { lib, withClock, FakeChannel } = require('./fakes')
const { FlowControl, RECEIVE_WINDOW, CONTROL_GRACE } = lib('flow.js')

/** Flow control whose host reports `consumed` as the application's reads, with a recording sender. */
function setup ({ readyState = 'open' } = {}) {
  const host = {
    consumedBytes: 0,
    sender: { totalSent: 0, windowEnds: [], setWindowEnd (n) { this.windowEnds.push(n) } },
    debug () {},
    consumed () { return host.consumedBytes }
  }
  const flow = new FlowControl(host)
  const channel = new FakeChannel({ readyState })
  const messages = () => channel.sent.map(m => JSON.parse(m))
  return { flow, host, channel, messages }
}

test('flow: an open control channel gets the first credit at once; a connecting one when it opens', t => {
  const open = setup()
  open.flow.attach(open.channel)
  t.deepEqual(open.messages(), [{ t: 'credit', n: 0 }], 'credit for what was consumed so far')

  const later = setup({ readyState: 'connecting' })
  later.flow.attach(later.channel)
  t.deepEqual(later.messages(), [], 'nothing on a connecting channel')
  later.channel.readyState = 'open'
  later.channel.onopen()
  t.deepEqual(later.messages(), [{ t: 'credit', n: 0 }], 'credit once it opens')
  later.channel.onopen()
  t.equal(later.channel.sent.length, 1, 'a second open event changes nothing')

  const other = new FakeChannel()
  later.flow.attach(other)
  t.equal(other.onmessage, null, 'a second channel is not taken')
  t.end()
})

test('flow: credit is reported after a quarter window of reads, or when forced', t => {
  const { flow, host, channel, messages } = setup()
  flow.attach(channel)
  channel.sent.length = 0
  host.consumedBytes = RECEIVE_WINDOW / 4 - 1
  flow.reportConsumed()
  t.deepEqual(messages(), [], 'not for less than a quarter window')
  flow.reportConsumed(true)
  t.deepEqual(messages(), [{ t: 'credit', n: RECEIVE_WINDOW / 4 - 1 }], 'forced: reported')
  flow.reportConsumed(true)
  t.equal(channel.sent.length, 1, 'the same count is not reported twice')
  host.consumedBytes += RECEIVE_WINDOW / 4
  flow.reportConsumed()
  t.deepEqual(messages()[1], { t: 'credit', n: RECEIVE_WINDOW / 2 - 1 }, 'a quarter window more: reported')
  host.consumed = () => null
  flow.reportConsumed(true)
  t.equal(channel.sent.length, 2, 'nothing when the host does not know')
  t.end()
})

test('flow: the remote\'s credit moves the sender\'s window; junk is ignored', t => {
  const { flow, host, channel } = setup()
  flow.attach(channel)
  channel.onmessage({ data: JSON.stringify({ t: 'credit', n: 1000 }) })
  t.deepEqual(host.sender.windowEnds, [1000 + RECEIVE_WINDOW], 'window end: consumed + RECEIVE_WINDOW')
  for (const data of [new Uint8Array([1]), '{', 'null', JSON.stringify({ t: 'credit', n: '5' }), JSON.stringify({ t: 'fin' }), JSON.stringify({ t: 'other' })]) {
    t.doesNotThrow(() => channel.onmessage({ data }), `ignored: ${typeof data === 'string' ? data : 'bytes'}`)
  }
  t.deepEqual(host.sender.windowEnds, [1000 + RECEIVE_WINDOW], 'no other window change')
  t.equal(channel.sent.length, 1, 'nothing sent in reply')
  t.end()
})

test('flow: the remote\'s fin is acknowledged once all its bytes arrived; no credit after that', t => {
  const { flow, host, channel, messages } = setup()
  flow.attach(channel)
  flow.onReceived(60)
  channel.onmessage({ data: JSON.stringify({ t: 'fin', n: 100 }) })
  t.deepEqual(messages().slice(1), [], 'not before all bytes arrived')
  flow.onReceived(39)
  t.deepEqual(messages().slice(1), [], 'not one byte short')
  flow.onReceived(1)
  t.deepEqual(messages().slice(1), [{ t: 'finack' }], 'finack once they have')
  flow.onReceived(10)
  host.consumedBytes = RECEIVE_WINDOW
  flow.reportConsumed(true)
  t.deepEqual(messages().slice(1), [{ t: 'finack' }], 'no second finack, and no credit to a remote that has finished')

  const early = setup()
  early.flow.attach(early.channel)
  early.flow.onReceived(5)
  early.channel.onmessage({ data: JSON.stringify({ t: 'fin', n: 5 }) })
  t.deepEqual(early.messages().slice(1), [{ t: 'finack' }], 'at once if the bytes came first')
  t.end()
})

test('flow: finish sends fin with the bytes sent and is told when the remote acknowledges', t => {
  const { flow, host, channel, messages } = setup()
  flow.attach(channel)
  host.sender.totalSent = 12345
  const results = []
  flow.finish(ok => results.push(ok))
  t.deepEqual(messages().slice(1), [{ t: 'fin', n: 12345 }], 'fin with totalSent')
  t.deepEqual(results, [], 'waits for finack')
  channel.onmessage({ data: JSON.stringify({ t: 'finack' }) })
  t.deepEqual(results, [true], 'acknowledged')
  channel.onmessage({ data: JSON.stringify({ t: 'finack' }) })
  t.deepEqual(results, [true], 'once')

  const closing = setup()
  closing.flow.attach(closing.channel)
  const closed = []
  closing.flow.finish(ok => closed.push(ok))
  closing.channel.onclose()
  t.deepEqual(closed, [false], 'the channel closing first: not acknowledged')
  t.ok(closing.channel.closed, 'stop closes the channel')
  t.equal(closing.channel.onmessage, null, 'and detaches from it')
  t.end()
})

test('flow: finish without a control channel, or none expected, is not acknowledged at once', t => withClock(() => {
  const { flow } = setup()
  const results = []
  flow.finish(ok => results.push(ok))
  t.deepEqual(results, [false], 'none expected: at once')
  flow.expect(Date.now() - 1)
  flow.finish(ok => results.push(ok))
  t.deepEqual(results, [false, false], 'expected until a time past: at once')
}))

test('flow: finish waits for an expected control channel, up to the grace time', t => withClock(clock => {
  const { flow, host, channel, messages } = setup({ readyState: 'connecting' })
  host.sender.totalSent = 7
  flow.expect(Date.now() + CONTROL_GRACE)
  const results = []
  flow.finish(ok => results.push(ok))
  const second = []
  flow.finish(ok => second.push(ok))
  t.deepEqual(second, [false], 'a second finish while one waits: not acknowledged')
  flow.attach(channel)
  clock.tick(CONTROL_GRACE / 2)
  t.deepEqual(results, [], 'waits')
  channel.readyState = 'open'
  channel.onopen()
  t.deepEqual(messages(), [{ t: 'credit', n: 0 }, { t: 'fin', n: 7 }], 'the channel opens: fin goes')
  t.equal(clock.pending, 0, 'the grace timer is cleared')
  channel.onmessage({ data: JSON.stringify({ t: 'finack' }) })
  t.deepEqual(results, [true], 'acknowledged')

  const late = setup()
  late.flow.expect(Date.now() + CONTROL_GRACE)
  const lateResults = []
  late.flow.finish(ok => lateResults.push(ok))
  clock.tick(CONTROL_GRACE - 1)
  t.deepEqual(lateResults, [], 'not before the grace time')
  clock.tick(1)
  t.deepEqual(lateResults, [false], 'not acknowledged once it is over')

  const sure = setup()
  sure.flow.expect(Infinity)
  const sureResults = []
  sure.flow.finish(ok => sureResults.push(ok))
  t.equal(clock.pending, 0, 'expected for sure: no timer')
  clock.tick(60_000)
  t.deepEqual(sureResults, [], 'it waits')
  sure.flow.stop()
  t.deepEqual(sureResults, [false], 'until stopped')
}))

test('flow: a control channel whose send throws does not throw out of flow control', t => {
  const messages = []
  const { flow, channel } = setup()
  flow.debug = () => {}
  channel.failSend = new Error('closing')
  t.doesNotThrow(() => flow.attach(channel), 'credit on open')
  t.doesNotThrow(() => flow.finish(ok => messages.push(ok)), 'fin')
  t.deepEqual(messages, [], 'the finish still waits (the channel close will end it)')
  channel.onerror()
  t.deepEqual(messages, [false], 'the channel failing ends it')
  t.end()
})

test('flow: a channel whose readyState or close() throws', t => {
  const { flow, channel, messages } = setup()
  Object.defineProperty(channel, 'readyState', { get () { throw new Error('gone') }, configurable: true })
  channel.close = () => { throw new Error('already closed') }
  flow.attach(channel)
  t.deepEqual(messages(), [], 'an unreadable readyState: wait for onopen')
  channel.onopen()
  t.deepEqual(messages(), [{ t: 'credit', n: 0 }], 'which starts it')
  const results = []
  flow.finish(ok => results.push(ok))
  t.doesNotThrow(() => flow.stop(), 'stop survives close() throwing')
  t.deepEqual(results, [false], 'and ends the finish')
  t.end()
})

'use strict'
// A userland network link for tests: a UDP relay on 127.0.0.1 between two
// peers whose ICE candidates are rewritten to point at it. It can delay
// packets, drop a fraction of them, or drop everything for a while.
const dgram = require('dgram')

/** Receive buffer asked of each relay socket (the kernel caps it at net.core.rmem_max). */
const RECV_BUFFER = 4 * 1024 * 1024

class Link {
  /**
   * @param {object} opts
   * @param {number} [opts.delay] one-way delay in ms
   * @param {number} [opts.loss] fraction of packets dropped, 0..1
   * @param {number} [opts.seed] seed of the loss pattern
   */
  constructor ({ delay = 0, loss = 0, seed = 12345 } = {}) {
    this.delay = delay
    this.loss = loss
    this.down = false
    this.dropped = 0
    this.forwarded = 0
    this.rand = seed >>> 0 || 1
    this.real = { a: null, b: null }
    // A large receive buffer: when the process is busy, packets wait in the
    // kernel rather than being dropped there (loss the link did not choose).
    const socket = () => dgram.createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER })
    this.sockets = { a: socket(), b: socket() }
    /** Delayed packets in the order they are due (one delay for all: a FIFO), and the timer of the first. */
    this.queue = []
    this.head = 0
    this.timer = null
    // Socket `a` stands for peer A toward B; socket `b` stands for B toward A.
    this.sockets.a.on('message', msg => this.forward(msg, this.sockets.b, 'a'))
    this.sockets.b.on('message', msg => this.forward(msg, this.sockets.a, 'b'))
  }

  async start () {
    await Promise.all(Object.values(this.sockets).map(s => new Promise(resolve => s.bind(0, '127.0.0.1', resolve))))
    return this
  }

  /** Packets that reach the socket standing for `to` came from the other peer. */
  forward (msg, via, to) {
    const target = this.real[to]
    if (!target) return
    if (this.down || this.lose()) { this.dropped++; return }
    if (this.delay > 0) {
      this.queue.push({ due: performance.now() + this.delay, msg, via, target })
      if (this.timer === null) this.schedule()
    } else {
      this.send(msg, via, target)
    }
  }

  send (msg, via, target) {
    this.forwarded++
    via.send(msg, target.port, target.address)
  }

  /** Sends the packets that are due, then waits for the next one. */
  schedule () {
    this.timer = null
    const now = performance.now()
    while (this.head < this.queue.length && this.queue[this.head].due <= now) {
      const { msg, via, target } = this.queue[this.head]
      this.queue[this.head++] = null
      this.send(msg, via, target)
    }
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
      return
    }
    if (this.head > 4096) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    this.timer = setTimeout(() => this.schedule(), Math.max(0, this.queue[this.head].due - now))
  }

  lose () {
    if (this.loss <= 0) return false
    let x = this.rand
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    this.rand = x >>> 0
    return (this.rand / 0x100000000) < this.loss
  }

  /**
   * Rewrites a candidate signal from peer `from` ('a' or 'b'): the first UDP
   * IPv4 host candidate is pointed at the relay, every other one is dropped
   * (returns null). After an ICE restart (a candidate with new credentials,
   * `ufrag`), the first such candidate of the new generation takes over.
   */
  rewrite (from, signal) {
    if (signal.sdp) {
      // Candidates already gathered can ride in the SDP: only the trickled, rewritten ones may be used.
      return { ...signal, sdp: signal.sdp.split('\r\n').filter(line => !line.startsWith('a=candidate:')).join('\r\n') }
    }
    if (signal.type !== 'candidate') return signal
    const parts = signal.candidate.candidate.split(' ')
    // foundation component transport priority address port typ type ...
    const [, , transport, , address, port, , type] = parts
    const ufragAt = parts.indexOf('ufrag')
    const ufrag = ufragAt >= 0 ? parts[ufragAt + 1] : null
    const known = this.real[from]
    if (transport.toLowerCase() !== 'udp' || type !== 'host' || address.includes(':')) return null
    if (known && (ufrag === null || known.ufrag === ufrag)) return null
    this.real[from] = { address, port: Number(port), ufrag }
    // The other peer sees this peer at the relay socket standing for it.
    parts[4] = '127.0.0.1'
    parts[5] = String(this.sockets[from].address().port)
    return { ...signal, candidate: { ...signal.candidate, candidate: parts.join(' ') } }
  }

  /** Wires two peers' signals through the link. */
  wire (a, b) {
    a.on('signal', s => { const r = this.rewrite('a', s); if (r && !b.destroyed) b.signal(r) })
    b.on('signal', s => { const r = this.rewrite('b', s); if (r && !a.destroyed) a.signal(r) })
  }

  /**
   * A WebRTC implementation for the peer standing at `side` ('a' or 'b'),
   * for code that makes its own peers (rooms): remote candidates are
   * rewritten to the relay as `wire()` does, inside the connection. Assumes
   * one connection per side.
   */
  wrtcFor (side) {
    const wrtc = require('@roamhq/wrtc')
    const link = this
    const remote = side === 'a' ? 'b' : 'a'
    class LinkedPeerConnection extends wrtc.RTCPeerConnection {
      addIceCandidate (candidate) {
        if (!candidate || !candidate.candidate) return super.addIceCandidate(candidate)
        const init = { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
        const rewritten = link.rewrite(remote, { type: 'candidate', candidate: init })
        return rewritten ? super.addIceCandidate(rewritten.candidate) : Promise.resolve()
      }

      setRemoteDescription (description) {
        const stripped = link.rewrite(remote, { type: description.type, sdp: description.sdp })
        return super.setRemoteDescription(stripped)
      }
    }
    return { ...wrtc, RTCPeerConnection: LinkedPeerConnection }
  }

  close () {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.queue = []
    this.head = 0
    for (const s of Object.values(this.sockets)) s.close()
  }
}

module.exports = { Link }

'use strict'
// Shared by the striped-stream tests: pairs through per-connection relays,
// counting of the connections a side makes, and the stripes report.
const wrtc = require('@roamhq/wrtc')
const { Peer, LOOPBACK, once } = require('./helpers')
const { Links } = require('./faults/links')

/** A WebRTC implementation that records every connection made with it (`made`). */
function countingWrtc (base = wrtc) {
  const made = []
  class CountedPeerConnection extends base.RTCPeerConnection {
    constructor (config) {
      super(config)
      made.push(this)
    }
  }
  return { wrtc: { ...base, RTCPeerConnection: CountedPeerConnection }, made }
}

/** The `stripes` report of `peer.getStats()`, or `null`. */
async function stripesReport (peer) {
  const reports = await peer.getStats()
  return reports.find(r => r.type === 'stripes') || null
}

/** Resolves once `check()` is true (polled). */
function until (check, interval = 20) {
  return new Promise(resolve => {
    const poll = () => check() ? resolve() : setTimeout(poll, interval)
    poll()
  })
}

/** Resolves once `peer`'s report shows `open` stripes open and framing on. */
async function striped (peer, open) {
  for (;;) {
    const report = await stripesReport(peer)
    if (report && report.framed && report.open.length >= open) return report
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * Two connected duplex-peers whose connections (the peer's own and each
 * stripe's) each go through their own relay with `link` settings.
 */
async function linkedPair (link, optsA = {}, optsB = optsA) {
  const links = new Links(link)
  const a = new Peer({ ...LOOPBACK, initiator: true, wrtc: links.wrtcFor('a'), ...optsA })
  const b = new Peer({ ...LOOPBACK, wrtc: links.wrtcFor('b'), ...optsB })
  a.on('signal', s => { if (!b.destroyed) b.signal(s) })
  b.on('signal', s => { if (!a.destroyed) a.signal(s) })
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  return { a, b, links }
}

module.exports = { countingWrtc, stripesReport, until, striped, linkedPair }

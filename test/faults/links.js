'use strict'
// Several connections between the same two sides, each through its own relay
// (test/faults/link.js), as striped streams need: `Link.wrtcFor()` assumes one
// connection per side. A connection pair is recognised by the ICE ufrag of its
// offer, which both ends see before any candidate is added: the offerer in
// setLocalDescription(offer), the answerer in setRemoteDescription(offer).
const { Link } = require('./link')

const ufragOf = sdp => {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp || '')
  return m ? m[1] : null
}

class Links {
  /**
   * @param {object} opts as for Link; each relay gets `seed + its index`.
   */
  constructor (opts = {}) {
    this.opts = opts
    /** Relays in the order their connection pairs were first seen. */
    this.list = []
    this.byUfrag = new Map()
  }

  /** The relay of the connection pair whose offer had ICE ufrag `ufrag` (made on first use). */
  async linkFor (ufrag) {
    let link = this.byUfrag.get(ufrag)
    if (!link) {
      link = new Link({ ...this.opts, seed: (this.opts.seed || 12345) + this.list.length }).start()
      this.byUfrag.set(ufrag, link)
      this.list.push(link)
    }
    return link
  }

  /**
   * A WebRTC implementation for side 'a' or 'b': every connection made with it
   * sends through the relay of its own pair.
   */
  wrtcFor (side) {
    const wrtc = require('@roamhq/wrtc')
    const links = this
    const remote = side === 'a' ? 'b' : 'a'
    class LinkedPeerConnection extends wrtc.RTCPeerConnection {
      bind (description) {
        if (!this.linkReady && description && description.type === 'offer') {
          const ufrag = ufragOf(description.sdp)
          if (ufrag) this.linkReady = links.linkFor(ufrag)
        }
        return this.linkReady || Promise.resolve(null)
      }

      async setLocalDescription (description) {
        await this.bind(description)
        return super.setLocalDescription(description)
      }

      async setRemoteDescription (description) {
        const link = await this.bind(description)
        const stripped = link ? link.rewrite(remote, { type: description.type, sdp: description.sdp }) : description
        return super.setRemoteDescription(stripped)
      }

      async addIceCandidate (candidate) {
        if (!candidate || !candidate.candidate) return super.addIceCandidate(candidate)
        const link = await (this.linkReady || Promise.resolve(null))
        if (!link) return undefined
        const init = { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
        const rewritten = link.rewrite(remote, { type: 'candidate', candidate: init })
        return rewritten ? super.addIceCandidate(rewritten.candidate) : undefined
      }
    }
    return { ...wrtc, RTCPeerConnection: LinkedPeerConnection }
  }

  /** Every relay made so far. */
  async all () { return Promise.all(this.list) }

  async close () { for (const link of await this.all()) link.close() }
}

module.exports = { Links }

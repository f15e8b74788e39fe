'use strict'
// Media demo: two peers connect with no media; mid-call, the non-initiator
// starts sending video, and the initiator counts the frames it receives.
// Video frames are made with @roamhq/wrtc's nonstandard RTCVideoSource and read
// with RTCVideoSink, so no camera is needed.
const Peer = require('..')
const { MediaStream, nonstandard: { RTCVideoSource, RTCVideoSink } } = require('@roamhq/wrtc')

const config = { iceServers: [] }
const caller = new Peer({ initiator: true, config })
const callee = new Peer({ config })
caller.on('signal', data => callee.signal(data))
callee.on('signal', data => caller.signal(data))

const source = new RTCVideoSource()
const track = source.createTrack()
const stream = new MediaStream([track])
const width = 320
const height = 240
const frame = { width, height, data: new Uint8ClampedArray(width * height * 1.5) }
const pusher = setInterval(() => source.onFrame(frame), 33)

callee.on('connect', () => {
  console.log('connected; callee adds a video track mid-call')
  callee.addStream(stream) // renegotiates: callee asks, caller offers
})

caller.on('track', (remoteTrack, remoteStream) => {
  console.log(`caller got a ${remoteTrack.kind} track in stream ${remoteStream.id}`)
  const sink = new RTCVideoSink(remoteTrack)
  let frames = 0
  sink.onframe = ({ frame }) => {
    if (++frames === 30) {
      console.log(`caller received 30 frames of ${frame.width}x${frame.height}`)
      sink.stop()
      clearInterval(pusher)
      callee.removeStream(stream) // renegotiates again
      caller.once('negotiated', () => {
        console.log('track removed; closing')
        caller.destroy()
        callee.destroy()
        track.stop()
        // @roamhq/wrtc keeps the process alive once a media source exists.
        setTimeout(() => process.exit(0), 100)
      })
    }
  }
})

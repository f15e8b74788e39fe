'use strict'
// Media helpers: tracks made with @roamhq/wrtc's nonstandard sources, read with its sinks.
//
// @roamhq/wrtc keeps a Node process alive once a media source exists, and
// crashes at exit once a track was stopped; both are inside the native module.
// Media tests therefore run in their own tape process, which ends with
// process.exit() after the last test (see exit-when-done.js).
const wrtc = require('@roamhq/wrtc')
const { RTCVideoSource, RTCVideoSink } = wrtc.nonstandard

/** A video source, its track, and a stream holding the track. */
function camera (width = 160, height = 120) {
  const source = new RTCVideoSource()
  const track = source.createTrack()
  const stream = new wrtc.MediaStream([track])
  const data = new Uint8ClampedArray(width * height * 1.5)
  let n = 0
  // Frames are pushed continuously; a sink on the other side sees them.
  const timer = setInterval(() => {
    data.fill((n++ * 7) & 0xff, 0, width * height)
    source.onFrame({ width, height, data })
  }, 20)
  return { source, track, stream, width, height, stop () { clearInterval(timer) } }
}

/** Resolves with the first frame (its width and height) that arrives on a remote track. */
function firstFrame (track) {
  return new Promise(resolve => {
    const sink = new RTCVideoSink(track)
    sink.onframe = ({ frame }) => {
      sink.onframe = null
      sink.stop()
      resolve({ width: frame.width, height: frame.height })
    }
  })
}

/** Resolves with the first frame of the given size. */
function frameOfSize (track, width) {
  return new Promise(resolve => {
    const sink = new RTCVideoSink(track)
    sink.onframe = ({ frame }) => {
      if (frame.width !== width) return
      sink.onframe = null
      sink.stop()
      resolve({ width: frame.width, height: frame.height })
    }
  })
}

module.exports = { wrtc, camera, firstFrame, frameOfSize }

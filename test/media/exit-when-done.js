'use strict'
// Loaded first by the media test run: ends the process once tape is done,
// with tape's verdict, because @roamhq/wrtc's media objects keep it alive.
const tape = require('tape')
let failed = false
tape.onFailure(() => { failed = true })
tape.onFinish(() => setImmediate(() => process.exit(failed ? 1 : 0)))

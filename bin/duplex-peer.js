#!/usr/bin/env node
'use strict'
// duplex-peer: netcat over WebRTC (`duplex-peer help` for the usage). The
// command is written in TypeScript, in lib/cli/; this runs its build
// (dist/lib/cli/, made by `npm run build`).
require('../dist/lib/cli/main.js').main(process.argv.slice(2))

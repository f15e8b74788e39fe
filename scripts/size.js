#!/usr/bin/env node
'use strict'
// Prints the size of the standalone browser script beside simple-peer 9.11.1's.
// Usage: node scripts/size.js   (after npm run build:browser)
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')

const root = path.join(__dirname, '..')
const files = [
  ['duplex-peer', path.join(root, 'dist', 'duplex-peer.min.js')],
  ['simple-peer 9.11.1', path.join(path.dirname(require.resolve('simple-peer/package.json')), 'simplepeer.min.js')]
]
const kib = n => `${(n / 1024).toFixed(1)} KiB`
console.log('| script | minified | gzipped |\n| --- | ---: | ---: |')
for (const [name, file] of files) {
  const data = fs.readFileSync(file)
  const gz = zlib.gzipSync(data, { level: 9 }).length
  console.log(`| ${name} (\`${path.basename(file)}\`) | ${data.length} B (${kib(data.length)}) | ${gz} B (${kib(gz)}) |`)
}

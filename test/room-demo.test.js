'use strict'
// `duplex-peer server --demo` and `duplex-peer room`: the server runs as a
// child process and serves the demo page; two pages in Chromium and the
// terminal chat (a child process, stdin piped) meet in one room. Chat goes
// both ways; a file dropped on a page arrives at the other page (download
// link, SHA-256) and at the terminal (saved beside an existing file of the
// same name, SHA-256), with 100 % per peer on the sending page; a file sent
// with /send from the terminal reaches both pages.
const fs = require('fs')
const os = require('os')
const path = require('path')
const test = require('tape')
const { spawn } = require('child_process')
const { launchChromium } = require('./browser/harness')
const { sha256, patternBytes } = require('./helpers')

const WATCHDOG = 240e3
const BIN = path.join(__dirname, '..', 'bin', 'duplex-peer.js')
const ROOM = `demo-${Math.random().toString(36).slice(2)}`

/** A child process of the CLI; `waitFor(re)` resolves with the first stdout (or stderr) line matching. */
function cli (args, options = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options })
  const lines = { stdout: [], stderr: [] }
  const waiting = []
  for (const stream of ['stdout', 'stderr']) {
    let rest = ''
    child[stream].setEncoding('utf8')
    child[stream].on('data', text => {
      rest += text
      const parts = rest.split('\n')
      rest = parts.pop()
      for (const line of parts) {
        lines[stream].push(line)
        for (const w of waiting.slice()) {
          if (w.stream === stream && w.re.test(line)) {
            waiting.splice(waiting.indexOf(w), 1)
            w.resolve(line)
          }
        }
      }
    })
  }
  const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    lines,
    exited,
    waitFor (re, stream = 'stdout') {
      const found = lines[stream].find(line => re.test(line))
      if (found) return Promise.resolve(found)
      return new Promise(resolve => waiting.push({ re, stream, resolve }))
    },
    type: text => child.stdin.write(text + '\n')
  }
}

/** Opens the demo page and joins the room as `name`. */
async function openDemo (browser, origin, name, logs) {
  const page = await browser.context.newPage()
  page.on('console', message => logs.push(`[${name} console.${message.type()}] ${message.text()}`))
  page.on('pageerror', err => logs.push(`[${name} pageerror] ${err.message}`))
  await page.goto(`${origin}/demo/?nostun#${ROOM}`)
  await page.fill('#name', name)
  await page.click('#join button')
  await page.waitForSelector('#room.joined')
  return page
}

/** The log lines of a page. */
const logOf = page => page.$$eval('#log p', ps => ps.map(p => p.textContent))

test('demo: server --demo, two pages and the terminal chat in one room: chat both ways, files with progress and SHA-256', async t => {
  t.timeoutAfter(WATCHDOG)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duplex-peer-room-'))
  const server = cli(['server', '--demo', '--port', '0', '--host', '127.0.0.1', '--quiet'])
  let browser = null
  let terminal = null
  const logs = []
  try {
    const port = Number(/listening on port (\d+)/.exec(await server.waitFor(/^listening on port \d+$/))[1])
    const origin = `http://127.0.0.1:${port}`
    t.ok(await server.waitFor(/demo page: .*\/demo\//, 'stderr'), 'the server tells where the demo page is')
    browser = await launchChromium()
    const pages = [await openDemo(browser, origin, 'page1', logs), await openDemo(browser, origin, 'page2', logs)]

    // A file of the name about to arrive is already there: it must not be overwritten.
    fs.writeFileSync(path.join(dir, 'data.bin'), 'already here')
    terminal = cli(['room', '--server', `${origin}/`, '--name', 'term', '--no-stun', ROOM], { cwd: dir })
    await terminal.waitFor(/^\* page1 joined$/)
    await terminal.waitFor(/^\* page2 joined$/)
    t.pass('the terminal sees both pages join')
    for (const page of pages) await page.waitForFunction(() => document.querySelectorAll('#who li.connected').length === 2)
    const who = await Promise.all(pages.map(page => page.$$eval('#who li', lis => lis.map(li => li.textContent).sort())))
    t.deepEqual(who, [['page2', 'term'], ['page1', 'term']], 'each page lists the two others as connected')

    terminal.type('hello from the terminal')
    for (const page of pages) await page.waitForFunction(() => [...document.querySelectorAll('#log p')].some(p => p.textContent === 'term: hello from the terminal'))
    t.pass('a line typed in the terminal shows on both pages as "term: ..."')
    await pages[0].fill('#line', 'hello from page1')
    await pages[0].click('#chat button')
    t.equal(await terminal.waitFor(/^page1: /), 'page1: hello from page1', 'a line from page1 prints in the terminal as "page1: ..."')
    await pages[1].waitForFunction(() => [...document.querySelectorAll('#log p')].some(p => p.textContent === 'page1: hello from page1'))
    t.pass('and shows on page2')

    // A file chosen on page1.
    const bytes = patternBytes(3 * 1024 * 1024 + 17, 0xde70)
    await pages[0].setInputFiles('#files', { name: 'data.bin', mimeType: 'application/octet-stream', buffer: bytes })
    await pages[0].waitForFunction(() => {
      const bars = [...document.querySelectorAll('.transfer progress')]
      return bars.length === 2 && bars.every(bar => bar.value === 100)
    })
    const bars = await pages[0].$$eval('.transfer div', rows => rows.map(row => [...row.children].map(c => c.textContent).join(' ').replace(/\s+/g, ' ').trim()).sort())
    t.deepEqual(bars, ['page2 100 %', 'term 100 %'], 'page1 shows 100 % for each peer')
    await pages[1].waitForSelector('a.download')
    const link = await pages[1].$eval('a.download', async a => {
      const buffer = await (await fetch(a.href)).arrayBuffer()
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer))
      return { name: a.download, sha256: Array.from(digest, b => b.toString(16).padStart(2, '0')).join('') }
    })
    t.deepEqual(link, { name: 'data.bin', sha256: sha256(bytes) }, 'page2 has a download link to data.bin, with the bytes sent (SHA-256)')
    const saved = /saved to (.+)$/.exec(await terminal.waitFor(/^\* page1 sent data\.bin/))[1]
    t.equal(saved, path.join(dir, 'data-1.bin'), 'the terminal saved it as data-1.bin, beside the data.bin already there')
    t.equal(sha256(fs.readFileSync(saved)), sha256(bytes), 'the saved file has the bytes sent (SHA-256)')
    t.equal(fs.readFileSync(path.join(dir, 'data.bin'), 'utf8'), 'already here', 'the existing file is untouched')

    // A file sent from the terminal.
    const out = patternBytes(1024 * 1024, 0x7e57)
    fs.writeFileSync(path.join(dir, 'from-term.bin'), out)
    terminal.type(`/send ${path.join(dir, 'from-term.bin')}`)
    await terminal.waitFor(/^\* from-term\.bin \(1\.0 MiB\) sent to /)
    const got = await Promise.all(pages.map(async page => {
      await page.waitForFunction(() => [...document.querySelectorAll('a.download')].some(a => a.download === 'from-term.bin'))
      return page.$$eval('a.download', async links => {
        const a = links.find(l => l.download === 'from-term.bin')
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await (await fetch(a.href)).arrayBuffer()))
        return Array.from(digest, b => b.toString(16).padStart(2, '0')).join('')
      })
    }))
    t.deepEqual(got, [sha256(out), sha256(out)], '/send from the terminal reaches both pages intact (SHA-256)')
    const final = terminal.lines.stderr.filter(line => /^from-term\.bin → /.test(line)).slice(-2).map(line => line.replace(/ \[.*\]/, '').replace(/\s+/g, ' '))
    t.deepEqual(final.sort(), ['from-term.bin → page1 100% 1.0 MiB / 1.0 MiB', 'from-term.bin → page2 100% 1.0 MiB / 1.0 MiB'], 'the terminal drew a progress bar per peer on stderr, ending at 100 %')

    terminal.type('/who')
    t.equal(await terminal.waitFor(/^\* here: /), '* here: page1 (connected), page2 (connected)', '/who lists who is here')
    terminal.type('/quit')
    t.deepEqual(await terminal.exited, { code: 0, signal: null }, '/quit: the terminal leaves and exits with 0')
    terminal = null
    for (const page of pages) await page.waitForFunction(() => [...document.querySelectorAll('#log p')].some(p => p.textContent === 'term left'))
    t.pass('both pages see the terminal leave')
  } catch (err) {
    for (const line of logs) t.comment(line)
    if (terminal) for (const line of [...terminal.lines.stdout, ...terminal.lines.stderr]) t.comment(`[terminal] ${line}`)
    throw err
  } finally {
    if (terminal) terminal.child.kill()
    if (browser) await browser.close()
    server.child.kill('SIGTERM')
    const { code } = await server.exited
    t.equal(code, 0, 'the server stops on SIGTERM with 0')
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

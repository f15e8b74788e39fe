// The demo page of `duplex-peer server --demo`: a room chat with files, in
// plain JavaScript on the browser build of duplex-peer/room. It speaks with
// `duplex-peer room` in a terminal: chat lines are strings on label "chat",
// a file is its bytes on label "file:NAME", and metadata is { name }.
import { Room, WebSocketDriver } from './room.mjs'

const $ = id => document.getElementById(id)
let room = null

/** The room relay of the server that served this page: {path}rooms, next to {path}demo/. */
function relayUrl () {
  const url = new URL('../rooms', location.href)
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.href
}

const nameOf = peer => (peer.metadata && typeof peer.metadata.name === 'string' && peer.metadata.name) || peer.id.slice(0, 8)

/** Adds a line to the log: `who: text`, or a note; `link` is an element to append. */
function log (text, { note = false, link = null } = {}) {
  const p = document.createElement('p')
  if (note) p.className = 'note'
  p.textContent = text
  if (link) p.append(' ', link)
  const box = $('log')
  box.append(p)
  box.scrollTop = box.scrollHeight
}

function showWho () {
  const list = $('who')
  list.replaceChildren(...[...room.peers.values()].map(peer => {
    const li = document.createElement('li')
    li.textContent = nameOf(peer)
    li.className = peer.state
    li.title = peer.state
    return li
  }))
}

async function join (name, id) {
  // ?nostun: no STUN servers (a local network), as `duplex-peer room --no-stun`.
  const config = new URLSearchParams(location.search).has('nostun') ? { iceServers: [] } : undefined
  room = new Room({ id, driver: new WebSocketDriver(relayUrl()), config })
  for (const event of ['peer:join', 'peer:update', 'connection:connected', 'connection:disconnected']) room.on(event, showWho)
  room.on('peer:join', ({ peer }) => log(`${nameOf(peer)} joined`, { note: true }))
  room.on('peer:leave', ({ peer }) => { log(`${nameOf(peer)} left`, { note: true }); showWho() })
  room.on('channel:error', ({ peer, label, error }) => log(`${label} from ${nameOf(peer)} failed: ${error.code}`, { note: true }))
  room.on('channel:message', async ({ peer, label, data }) => {
    let value
    try {
      value = await data
    } catch {
      return // told by channel:error
    }
    if (label === 'chat' && typeof value === 'string') return log(`${nameOf(peer)}: ${value}`)
    if (label.startsWith('file:') && value instanceof Uint8Array) {
      const fileName = label.slice(5) || 'file'
      const a = document.createElement('a')
      a.href = URL.createObjectURL(new Blob([value]))
      a.download = fileName
      a.className = 'download'
      a.textContent = `${fileName} (${value.byteLength} bytes)`
      return log(`${nameOf(peer)} sent`, { link: a })
    }
    log(`${nameOf(peer)} sent something on ${label}`, { note: true })
  })
  await room.join({ name })
  $('join').style.display = 'none'
  $('room').classList.add('joined')
  document.title = `${id} · duplex-peer room`
  log(`You joined "${id}" as ${name}.`, { note: true })
  showWho()
}

/** `name` cut to 200 bytes of UTF-8 (a label is at most 255). */
function labelName (name) {
  const encoder = new TextEncoder()
  let out = name
  while (encoder.encode(out).length > 200) out = out.slice(0, -1)
  return out
}

/** Sends `file` to everyone, with a progress bar per peer. */
async function sendFile (file) {
  if (room.peers.size === 0) return log('Nobody to send to yet.', { note: true })
  const box = document.createElement('div')
  box.className = 'transfer'
  box.textContent = `${file.name} (${file.size} bytes)`
  $('transfers').append(box)
  const bars = new Map()
  try {
    // Throws at once for a file over the room's maxMessageSize (64 MiB).
    const transfer = room.send(file, { label: `file:${labelName(file.name)}` })
    for await (const { peer, current, total } of transfer) {
      let bar = bars.get(peer)
      if (!bar) {
        const row = document.createElement('div')
        const who = document.createElement('span')
        who.textContent = nameOf(peer)
        bar = { progress: document.createElement('progress'), percent: document.createElement('span') }
        bar.progress.max = 100
        bar.progress.dataset.peer = nameOf(peer)
        row.append(who, bar.progress, bar.percent)
        box.append(row)
        bars.set(peer, bar)
      }
      const percent = Math.floor(100 * current / (total || file.size || 1))
      bar.progress.value = percent
      bar.percent.textContent = `${percent} %`
    }
    await transfer
    log(`${file.name} sent to everyone.`, { note: true })
  } catch (err) {
    log(`${file.name} not delivered to everyone: ${err.code || err.message}`, { note: true })
  }
}

$('join').addEventListener('submit', event => {
  event.preventDefault()
  join($('name').value.trim(), $('room-id').value.trim()).catch(err => log(`Cannot join: ${err.message}`, { note: true }))
})
$('chat').addEventListener('submit', event => {
  event.preventDefault()
  const text = $('line').value
  if (!text.trim()) return
  $('line').value = ''
  log(`you: ${text}`)
  room.send(text, { label: 'chat' }).catch(err => log(`Not delivered: ${err.code || err.message}`, { note: true }))
})
$('files').addEventListener('change', event => {
  for (const file of event.target.files) sendFile(file)
  event.target.value = ''
})
const drop = $('drop')
drop.addEventListener('dragover', event => { event.preventDefault(); drop.classList.add('over') })
drop.addEventListener('dragleave', () => drop.classList.remove('over'))
drop.addEventListener('drop', event => {
  event.preventDefault()
  drop.classList.remove('over')
  for (const file of event.dataTransfer.files) sendFile(file)
})
$('room-id').value = decodeURIComponent(location.hash.slice(1)) || 'lobby'
addEventListener('pagehide', () => { if (room) room.leave() })

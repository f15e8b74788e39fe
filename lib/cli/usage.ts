/** The usage texts: the general one (`--help`, `help`) and one per command (`help COMMAND`, `COMMAND --help`). */
import { DEFAULT_SERVER } from './options'

/** The commands, as `help COMMAND` knows them. */
export const COMMAND_NAMES = ['server', 'receive', 'send', 'room', 'help'] as const

/** One of {@link COMMAND_NAMES}. */
export type CommandName = typeof COMMAND_NAMES[number]

/** Other names of commands: `serve` is `server`. */
const ALIASES: Readonly<Record<string, CommandName>> = { serve: 'server' }

const SERVER_SYNOPSIS = `duplex-peer server [--port 9000] [--host ::] [--path /] [--key peerjs] [--allow-discovery] [--demo]
      Runs a signaling server (PeerServer protocol; PeerJS clients can use it too)
      with the room relay of duplex-peer/room; --demo also serves a chat page.`

const RECEIVE_SYNOPSIS = `duplex-peer receive [--id ID] [--from ID] [--out FILE] [--server URL] [--stripes N] [> FILE]
      Receives one file. Without --from, waits under ID (or an id the server
      hands out) for a sender; with --from, fetches from a waiting sender.
      Writes the data to stdout, or to --out FILE.`

const SEND_SYNOPSIS = `duplex-peer send FILE [--to ID] [--id ID] [--server URL] [--stripes N]
      Sends FILE. With --to, sends to a waiting receiver; without, waits under
      ID (or an id the server hands out) for a receiver.`

const ROOM_SYNOPSIS = `duplex-peer room ROOM [--name NAME] [--server URL] [--stripes N]
      A terminal chat in ROOM, with the browsers of the --demo page and other
      terminals: lines typed are sent to everyone; /send FILE, /who, /quit.`

const HELP_SYNOPSIS = `duplex-peer help [COMMAND]
      Prints this text, or COMMAND's usage and options (as COMMAND --help does).`

const EXIT_STATUS = `Exit status: 0 done, 1 transfer failed, 2 usage or file error, 3 server unreachable
or refused, 4 peer unavailable or WebRTC connection failed.`

/** Options of `send` and `receive` for the signaling server and the connection. */
const CONNECTION_OPTIONS = `  -s, --server URL   signaling server, e.g. http://host:9000/ or https://host/path?key=KEY
                     (default $DUPLEX_PEER_SERVER or ${DEFAULT_SERVER})
  --no-stun          no STUN servers (local networks only)
  --stripes N|auto   carry the file over up to N WebRTC connections (1 to 8;
                     default 1), or auto: more while throughput rises. Used
                     only if the other side allows it too (the smaller N
                     wins); helps on long or lossy paths`

/** The general usage: every command, the shared options and the exit statuses. */
export const USAGE = `Usage:
  ${SERVER_SYNOPSIS}

  ${RECEIVE_SYNOPSIS}

  ${SEND_SYNOPSIS}

  ${ROOM_SYNOPSIS}

  ${HELP_SYNOPSIS}

Options:
  --server URL   signaling server, e.g. http://host:9000/ or https://host/path?key=KEY
                 (default $DUPLEX_PEER_SERVER or ${DEFAULT_SERVER})
  --no-stun      no STUN servers (local networks only)
  --stripes N    send, receive, room: up to N WebRTC connections per transfer
                 (1 to 8, or auto; default 1)
  --quiet        no progress output
  -h, --help     this text (COMMAND --help: that command's)
  -v, --version  the version

${EXIT_STATUS}`

/** Each command's usage: what it does, all its options, and its exit statuses. */
const COMMAND_USAGE: Readonly<Record<CommandName, string>> = {
  server: `Usage:
  ${SERVER_SYNOPSIS}
      Prints "listening on port PORT" on stdout once it listens, then logs
      clients as they come (+ ID) and go (- ID) on stderr. Stops on SIGINT or
      SIGTERM. \`duplex-peer serve\` is the same command.

Options:
  -p, --port PORT        port to listen on (default 9000; 0 picks a free one)
  --host HOST            address to listen on (default ::, every address)
  --path PATH            path the server is mounted at (default /)
  -k, --key KEY          key clients must give (default peerjs)
  --allow-discovery      let clients list the connected ids
  --expire-timeout MS    how long a message for a peer not yet connected is
                         held before its sender is told (default 5000)
  --demo                 also serve the demo page of duplex-peer/room at
                         {path}demo/ (chat, who is there, files with progress)
  --redis URL            run as one node of a cluster sharing this Redis
                         (redis://HOST:PORT; needs npm install redis); start
                         every node with the same URL and key
  --redis-lease MS       how long the ids of a node that died stay taken
                         (default 15000)
  -q, --quiet            do not log clients
  -h, --help             this text

Exit status: 0 stopped by a signal, 2 usage error, 3 cannot listen (e.g. the
port is in use).`,

  receive: `Usage:
  ${RECEIVE_SYNOPSIS}
      Checks the SHA-256 of what arrived against the sender's, and tells the
      sender. Progress goes to stderr.

Options:
  --id ID            id to wait under (default: one the server hands out)
  --from ID          the waiting sender to fetch from
  -o, --out FILE     write to FILE instead of stdout (which must not be a terminal)
${CONNECTION_OPTIONS}
  -q, --quiet        no progress output
  -h, --help         this text

${EXIT_STATUS}`,

  send: `Usage:
  ${SEND_SYNOPSIS}
      The receiver checks the file's SHA-256 and confirms it. Progress goes to
      stderr.

Options:
  --to ID            the waiting receiver to send to
  --id ID            id to wait under (default: one the server hands out)
${CONNECTION_OPTIONS}
  -q, --quiet        no progress output
  -h, --help         this text

${EXIT_STATUS}`,

  room: `Usage:
  ${ROOM_SYNOPSIS}
      Joins ROOM through the room relay of a duplex-peer server, with the
      metadata { name: NAME }. Prints the others' lines as "NAME: text", and
      "* NAME joined" / "* NAME left". /send FILE sends FILE to everyone, with
      a progress bar per peer on stderr; files sent by others are saved in the
      current directory (never over an existing file: NAME-1.EXT...), with a
      line saying where. /who lists who is here; /quit, the end of the input
      (once what was sent has arrived) or Ctrl-C leaves. Stdin need not be a
      terminal.

Options:
  -n, --name NAME    the name the others see (default: your user name)
  -s, --server URL   the server: http://host:9000/ (its relay is at /rooms), or
                     the relay's ws:// URL (default $DUPLEX_PEER_SERVER or ${DEFAULT_SERVER})
  --no-stun          no STUN servers (local networks only)
  --stripes N|auto   carry transfers to each peer over up to N WebRTC
                     connections (1 to 8, or auto; default 1), with peers
                     that allow it too
  -q, --quiet        no status lines or progress bars on stderr
  -h, --help         this text

Exit status: 0 left, 2 usage error, 3 cannot join (server unreachable).`,

  help: `Usage:
  ${HELP_SYNOPSIS}
      COMMAND is one of ${COMMAND_NAMES.join(', ')}.

Exit status: 0 done, 2 unknown COMMAND.`
}

/** Whether `name` is one of {@link COMMAND_NAMES}. */
function isCommandName (name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name)
}

/** The canonical name of command `name` (`serve` → `server`), or `undefined` if there is no such command. */
export function commandName (name: string): CommandName | undefined {
  if (Object.prototype.hasOwnProperty.call(ALIASES, name)) return ALIASES[name]
  return isCommandName(name) ? name : undefined
}

/** The usage of `command`. */
export function commandUsage (command: CommandName): string {
  return COMMAND_USAGE[command]
}

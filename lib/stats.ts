/** Statistics: simple-peer's flattened `getStats` reports, and the addresses of the selected candidate pair. */

/**
 * One stats report, flattened to a plain object: the fields of an
 * `RTCStats` dictionary (`candidate-pair`, `transport`, `data-channel`, ...).
 */
export type StatsReport = Record<string, unknown> & {
  /** The report's id; other reports refer to it (e.g. `localCandidateId`). */
  id?: string,
  /** The report's type, e.g. `'candidate-pair'`. */
  type?: string
}

/** Local and remote address of a connection. */
export interface Addresses {
  localAddress?: string
  localPort?: number
  localFamily?: string
  remoteAddress?: string
  remotePort?: number
  remoteFamily?: string
}

/** Reads every report of `pc.getStats()` into plain objects. */
export async function collectStats (pc: RTCPeerConnection): Promise<StatsReport[]> {
  const result = await pc.getStats()
  const reports: StatsReport[] = []
  result.forEach((report: unknown) => reports.push(flatten(report)))
  return reports
}

function flatten (report: unknown): StatsReport {
  const out: StatsReport = {}
  if (report && typeof report === 'object') {
    for (const key of Object.keys(report)) out[key] = (report as Record<string, unknown>)[key]
    // Old implementations nest values in an array of objects.
    const values = (report as { values?: unknown }).values
    if (Array.isArray(values)) for (const value of values) Object.assign(out, value)
  }
  return out
}

/**
 * Finds the selected candidate pair in `reports` and returns its addresses,
 * or `null` when none is selected yet.
 */
export function selectedAddresses (reports: StatsReport[]): Addresses | null {
  const byId = new Map<string, StatsReport>()
  for (const report of reports) if (typeof report.id === 'string') byId.set(report.id, report)

  let pair: StatsReport | undefined
  for (const report of reports) {
    if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
      pair = byId.get(report.selectedCandidatePairId)
      if (pair) break
    }
  }
  if (!pair) {
    pair = reports.find(r => (r.type === 'candidate-pair' || r.type === 'candidatepair') &&
      (r.selected === true || (r.nominated === true && r.state === 'succeeded')))
  }
  if (!pair) return null
  const local = byId.get(String(pair.localCandidateId))
  const remote = byId.get(String(pair.remoteCandidateId))
  if (!local && !remote) return null
  const out: Addresses = {}
  const l = endpoint(local)
  const r = endpoint(remote)
  if (l) { out.localAddress = l.address; out.localPort = l.port; out.localFamily = l.family }
  if (r) { out.remoteAddress = r.address; out.remotePort = r.port; out.remoteFamily = r.family }
  return out
}

function endpoint (candidate: StatsReport | undefined): { address: string, port: number, family: string } | null {
  if (!candidate) return null
  const address = candidate.address ?? candidate.ip ?? candidate.ipAddress
  if (typeof address !== 'string' || !address) return null
  const port = Number(candidate.port ?? candidate.portNumber)
  return { address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' }
}

/** Bytes the transport has put on the wire, and the current round-trip time (s), if reported. */
export function transportProgress (reports: StatsReport[]): { bytesSent: number, rtt: number } | null {
  const transport = reports.find(r => r.type === 'transport' && typeof r.bytesSent === 'number')
  if (!transport) return null
  const pair = reports.find(r => r.id === transport.selectedCandidatePairId)
  const rtt = pair && typeof pair.currentRoundTripTime === 'number' ? pair.currentRoundTripTime : 0
  return { bytesSent: transport.bytesSent as number, rtt }
}

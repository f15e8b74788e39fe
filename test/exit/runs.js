'use strict'
// Shared by the natural-exit tests: many child-process runs, and their outcomes.

/** Child processes run at once. */
const PARALLEL = 2

/** Runs `job(i)` for i < runs, `PARALLEL` at a time; resolves with the results. */
async function runMany (runs, job) {
  const results = []
  let next = 0
  const worker = async () => {
    while (next < runs) results.push(await job(next++))
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  return results
}

/** Counts process outcomes by how they ended: `{ 'status 0': 48, SIGSEGV: 2 }`. */
function tally (outcomes) {
  const counts = {}
  for (const r of outcomes) {
    const key = r.signal || `status ${r.code}`
    counts[key] = (counts[key] || 0) + 1
  }
  return counts
}

module.exports = { runMany, tally }

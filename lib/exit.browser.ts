/**
 * Browser replacement for `exit.ts`: a page has no process exit to make
 * safe. Browser builds (`npm run build:browser`, and bundlers through the
 * package's `browser` field) substitute this file.
 */

/** Does nothing in a browser. */
export function trackConnection (pc: object): void {
  void pc
}

/** Does nothing in a browser. */
export function connectionClosed (pc: object): void {
  void pc
}

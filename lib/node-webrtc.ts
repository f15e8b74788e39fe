/**
 * Loads `@roamhq/wrtc` in Node. Kept alone in its own file so that browser
 * bundles can replace it with nothing.
 */
export function loadNodeWebRTC (): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@roamhq/wrtc')
  } catch {
    return null
  }
}

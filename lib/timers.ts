/**
 * The timers of one object, by name: one place to start, restart and cancel
 * them, so that {@link Timers.clearAll} at teardown leaves none running.
 */
export class Timers<Name extends string> {
  /** Running timers; the map is made on the first {@link set} (a peer holds four sets, some never used). */
  private handles: Map<Name, ReturnType<typeof setTimeout>> | null = null

  /** Starts timer `name` (cancelling a running one of that name): `fn` runs after `ms` ms. */
  set (name: Name, ms: number, fn: () => void): void {
    this.clear(name)
    const handles = this.handles ??= new Map()
    handles.set(name, setTimeout(() => {
      handles.delete(name)
      fn()
    }, ms))
  }

  /** Whether timer `name` is running. */
  has (name: Name): boolean {
    return this.handles?.has(name) ?? false
  }

  /** Cancels timer `name`, if it runs. */
  clear (name: Name): void {
    const handle = this.handles?.get(name)
    if (handle === undefined) return
    clearTimeout(handle)
    this.handles?.delete(name)
  }

  /** Cancels every timer. */
  clearAll (): void {
    if (!this.handles) return
    for (const handle of this.handles.values()) clearTimeout(handle)
    this.handles.clear()
  }
}

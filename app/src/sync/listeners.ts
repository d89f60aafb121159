/** A set of change listeners with the subscribe signature that useSyncExternalStore expects. */
export class Listeners {
  private readonly listeners = new Set<() => void>()

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener()
  }

  clear(): void {
    this.listeners.clear()
  }
}

/**
 * Fixed-window request counter per key, kept in memory. Each instance counts on its own,
 * so behind a load balancer the effective limit is the limit times the instance count.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>()

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one request; returns the seconds to wait when the key is over its limit. */
  hit(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const window = this.windows.get(key)
    if (!window || now - window.start >= this.windowMs) {
      this.windows.set(key, { start: now, count: 1 })
      this.prune(now)
      return { ok: true }
    }
    window.count++
    if (window.count <= this.limit) return { ok: true }
    return { ok: false, retryAfterSeconds: Math.ceil((window.start + this.windowMs - now) / 1000) }
  }

  private prune(now: number): void {
    if (this.windows.size < 10_000) return
    for (const [key, window] of this.windows) {
      if (now - window.start >= this.windowMs) this.windows.delete(key)
    }
  }
}

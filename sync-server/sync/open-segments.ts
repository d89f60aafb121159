import type { SegmentStore } from '../persistence/segment-store.ts'

/** Maximum time, in ms, that a cached open segment number is used without reading it again. */
export const OPEN_SEGMENT_TTL_MS = 5_000
/** Cached conversations above which entries older than the TTL are dropped. */
const SWEEP_ABOVE_ENTRIES = 1_000

interface CachedSegment {
  open: number
  /** Date.now() when the number was last read from the database or raised. */
  checkedAt: number
}

/**
 * Caches the open segment of each conversation for the validator, which checks it on every
 * update that creates a message. A number is read from the database at most every
 * OPEN_SEGMENT_TTL_MS, and raised at once when this instance closes a segment or its copy of
 * the live document announces a new one. The number only grows, so the cache never lowers it.
 */
export class OpenSegments {
  private readonly entries = new Map<string, CachedSegment>()
  private readonly reads = new Map<string, Promise<number>>()

  constructor(
    private readonly store: SegmentStore,
    private readonly ttlMs = OPEN_SEGMENT_TTL_MS,
  ) {}

  /**
   * Returns the open segment of a conversation: the cached number while it is younger than
   * the TTL, else, or when `fresh` is set, the database's. Rejects when the database fails.
   */
  async get(conversationId: string, fresh = false): Promise<number> {
    const entry = this.entries.get(conversationId)
    if (!fresh && entry && Date.now() - entry.checkedAt < this.ttlMs) return entry.open
    return this.read(conversationId)
  }

  /** Raises the cached number to one learnt elsewhere, and returns the cached number. */
  raise(conversationId: string, open: number): number {
    const entry = this.entries.get(conversationId)
    if (entry && entry.open >= open) return entry.open
    this.entries.set(conversationId, { open, checkedAt: Date.now() })
    this.sweep()
    return open
  }

  /** Returns the cached number without reading the database, or undefined. */
  peek(conversationId: string): number | undefined {
    return this.entries.get(conversationId)?.open
  }

  /** Reads the number from the database, sharing one query between concurrent callers. */
  private read(conversationId: string): Promise<number> {
    const pending = this.reads.get(conversationId)
    if (pending) return pending
    const read = this.store
      .openSegment(conversationId)
      .then((stored) => {
        const entry = this.entries.get(conversationId)
        const open = Math.max(stored, entry?.open ?? 0)
        this.entries.set(conversationId, { open, checkedAt: Date.now() })
        this.sweep()
        return open
      })
      .finally(() => this.reads.delete(conversationId))
    this.reads.set(conversationId, read)
    return read
  }

  private sweep(): void {
    if (this.entries.size <= SWEEP_ABOVE_ENTRIES) return
    const now = Date.now()
    for (const [conversationId, entry] of this.entries) {
      if (now - entry.checkedAt >= this.ttlMs) this.entries.delete(conversationId)
    }
  }
}

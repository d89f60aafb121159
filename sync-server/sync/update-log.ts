import type { Logger } from '../observability/logger.ts'
import type { Metrics } from '../observability/metrics.ts'
import type { DocumentStore } from '../persistence/document-store.ts'

interface PendingUpdate {
  name: string
  data: Uint8Array
  resolve: () => void
}

const RETRY_FIRST_MS = 100
const RETRY_MAX_MS = 5_000

/**
 * Appends document updates to the database with group commit: updates that arrive in the
 * same event-loop turn, or while a write is in flight, go out together in one statement. A
 * failed write is retried with backoff until it succeeds, and the updates stay readable from
 * memory meanwhile.
 */
export class UpdateLog {
  private queue: PendingUpdate[] = []
  private inFlight: PendingUpdate[] = []
  private writing = false
  private writeScheduled = false
  private retryDelayMs = RETRY_FIRST_MS
  private closed = false
  private readonly appendedSinceCompaction = new Map<string, { rows: number; bytes: number }>()

  constructor(
    private readonly store: DocumentStore,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly onAppended: (
      name: string,
      sinceCompaction: { rows: number; bytes: number },
    ) => void,
  ) {}

  /** Queues an update; the promise resolves once it is committed. */
  append(name: string, data: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ name, data, resolve })
      if (this.writing || this.writeScheduled) return
      // The write starts after the poll phase, so the updates read from every socket in this
      // turn share its commit. They are then acknowledged and applied in one turn too, which
      // lets Hocuspocus send them to each client as one merged message (flushDelay 0).
      this.writeScheduled = true
      setImmediate(() => {
        this.writeScheduled = false
        if (!this.writing) void this.writeLoop()
      })
    })
  }

  /** Returns the updates of a document that are not stored yet, oldest first. */
  unstored(name: string): Uint8Array[] {
    return [...this.inFlight, ...this.queue]
      .filter((update) => update.name === name)
      .map((update) => update.data)
  }

  /** Returns whether any update of a document waits to be stored. */
  hasUnstored(name: string): boolean {
    return [...this.inFlight, ...this.queue].some((update) => update.name === name)
  }

  /** Marks a document compacted, so that the row and byte counts start again. */
  resetCount(name: string): void {
    this.appendedSinceCompaction.delete(name)
  }

  /** Waits until every queued update is stored, or the timeout passes. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (this.queue.length + this.inFlight.length > 0) {
      if (Date.now() > deadline) return false
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return true
  }

  close(): void {
    this.closed = true
  }

  private async writeLoop(): Promise<void> {
    this.writing = true
    while (this.queue.length > 0 && !this.closed) {
      this.inFlight = this.queue
      this.queue = []
      const started = performance.now()
      try {
        await this.store.append(this.inFlight.map(({ name, data }) => ({ name, data })))
      } catch (error) {
        this.metrics.storeFailures.inc()
        this.logger.error(
          {
            event: 'update_append_failed',
            err: error,
            updates: this.inFlight.length,
            retryInMs: this.retryDelayMs,
          },
          'failed to append document updates; retrying',
        )
        // Failed updates go back to the front so that their order is kept.
        this.queue = [...this.inFlight, ...this.queue]
        this.inFlight = []
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs))
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS)
        continue
      }
      this.retryDelayMs = RETRY_FIRST_MS
      this.metrics.storeSeconds.observe((performance.now() - started) / 1000)
      this.metrics.updatesStored.inc(this.inFlight.length)
      const done = this.inFlight
      this.inFlight = []
      for (const update of done) update.resolve()
      this.countAppended(done)
      // The next write waits for the turn in which the acknowledged clients send their next
      // updates, so that writers do not split into cohorts that commit one after the other.
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.writing = false
  }

  private countAppended(done: PendingUpdate[]): void {
    const changed = new Set<string>()
    for (const update of done) {
      const counts = this.appendedSinceCompaction.get(update.name) ?? { rows: 0, bytes: 0 }
      counts.rows++
      counts.bytes += update.data.length
      this.appendedSinceCompaction.set(update.name, counts)
      changed.add(update.name)
    }
    for (const name of changed) {
      const counts = this.appendedSinceCompaction.get(name)
      if (counts) this.onAppended(name, { ...counts })
    }
  }
}

import * as Y from 'yjs'
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
/** Default of the shortest time between the starts of two commits, in ms. */
export const DEFAULT_COMMIT_INTERVAL_MS = 5

/**
 * Appends document updates to the database with group commit: updates that arrive in the
 * same event-loop turn, while a write is in flight, or within the commit interval after the
 * last commit started, go out together in one statement, with one row per document. An
 * update that arrives after a quiet interval is written at once, so the interval only
 * delays updates under load. A failed write is retried with backoff until it succeeds, and
 * the updates stay readable from memory meanwhile.
 */
export class UpdateLog {
  private queue: PendingUpdate[] = []
  private inFlight: PendingUpdate[] = []
  private writing = false
  private writeScheduled = false
  private retryDelayMs = RETRY_FIRST_MS
  private closed = false
  /** performance.now() when the last write started. */
  private lastWriteStarted = Number.NEGATIVE_INFINITY
  private readonly appendedSinceCompaction = new Map<string, { rows: number; bytes: number }>()

  constructor(
    private readonly store: DocumentStore,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly onAppended: (
      name: string,
      sinceCompaction: { rows: number; bytes: number },
    ) => void,
    private readonly commitIntervalMs = DEFAULT_COMMIT_INTERVAL_MS,
  ) {}

  /** Queues an update; the promise resolves once it is committed. */
  append(name: string, data: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ name, data, resolve })
      if (this.writing || this.writeScheduled) return
      // The write starts after the poll phase at the earliest, so the updates read from every
      // socket in this turn share its commit. They are then acknowledged and applied in one
      // turn too, which lets Hocuspocus send them to each client as one merged message
      // (flushDelay 0).
      this.writeScheduled = true
      const start = () => {
        this.writeScheduled = false
        if (!this.writing) void this.writeLoop()
      }
      const wait = this.intervalLeft()
      if (wait > 0) setTimeout(start, wait)
      else setImmediate(start)
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

  /** Returns the ms until the commit interval since the last write's start has passed. */
  private intervalLeft(): number {
    return this.lastWriteStarted + this.commitIntervalMs - performance.now()
  }

  private async writeLoop(): Promise<void> {
    this.writing = true
    while (this.queue.length > 0 && !this.closed) {
      const wait = this.intervalLeft()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      this.inFlight = this.queue
      this.queue = []
      const started = performance.now()
      this.lastWriteStarted = started
      const rows = rowsPerDocument(this.inFlight)
      try {
        await this.store.append(rows)
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
      this.countAppended(rows)
      // The next write waits for the turn in which the acknowledged clients send their next
      // updates, so that writers do not split into cohorts that commit one after the other.
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.writing = false
  }

  private countAppended(rows: { name: string; data: Uint8Array }[]): void {
    const changed = new Set<string>()
    for (const row of rows) {
      const counts = this.appendedSinceCompaction.get(row.name) ?? { rows: 0, bytes: 0 }
      counts.rows++
      counts.bytes += row.data.length
      this.appendedSinceCompaction.set(row.name, counts)
      changed.add(row.name)
    }
    for (const name of changed) {
      const counts = this.appendedSinceCompaction.get(name)
      if (counts) this.onAppended(name, { ...counts })
    }
  }
}

/**
 * Returns one row per document: its updates merged into one, in the order of their first
 * update. Each stored row costs a tuple header, the document name and an index entry on top
 * of its data, so merging several small updates shrinks what a busy document writes.
 */
function rowsPerDocument(updates: PendingUpdate[]): { name: string; data: Uint8Array }[] {
  const byName = new Map<string, Uint8Array[]>()
  for (const { name, data } of updates) {
    const list = byName.get(name)
    if (list) list.push(data)
    else byName.set(name, [data])
  }
  return [...byName].map(([name, list]) => ({
    name,
    data: list.length === 1 ? (list[0] as Uint8Array) : Y.mergeUpdates(list),
  }))
}

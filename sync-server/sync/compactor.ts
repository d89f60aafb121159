import type { Logger } from '../observability/logger.ts'
import type { DocumentStore } from '../persistence/document-store.ts'

/** Update rows of one document that trigger a compaction whatever their size. */
export const COMPACT_AFTER_ROWS = 1000
/** Bytes of update rows below which a document waits for more before it is compacted. */
export const COMPACT_MIN_LOG_BYTES = 64 * 1024
/** Documents whose last snapshot size the compactor remembers. */
const REMEMBERED_SNAPSHOTS = 10_000
const RETRY_MS = 5_000

/** Bytes of update rows, as a multiple of the snapshot's size, that trigger a compaction. */
export const COMPACT_LOG_TO_SNAPSHOT = 2

/**
 * Returns whether a document's update rows are due for compaction. A compaction rewrites
 * the whole snapshot, so it waits until the rows add up to twice the snapshot's size. The
 * bytes rewritten then stay within 1.5 times the bytes appended, however large the
 * document. A load then applies at most three times the snapshot's bytes.
 */
export function compactionDue(rows: number, rowBytes: number, snapshotBytes: number): boolean {
  return (
    rows >= COMPACT_AFTER_ROWS ||
    rowBytes >= Math.max(COMPACT_MIN_LOG_BYTES, COMPACT_LOG_TO_SNAPSHOT * snapshotBytes)
  )
}

/** Runs compactions in the background, one at a time per document, retrying failures. */
export class Compactor {
  private readonly running = new Map<string, Promise<void>>()
  private readonly retryTimers = new Set<NodeJS.Timeout>()
  private readonly snapshotBytes = new Map<string, number>()
  private stopped = false

  constructor(
    private readonly store: DocumentStore,
    private readonly logger: Logger,
    private readonly onCompacted: (name: string) => void,
  ) {}

  /** Returns the snapshot size of a document's last compaction here, or 0 when unknown. */
  lastSnapshotBytes(name: string): number {
    return this.snapshotBytes.get(name) ?? 0
  }

  /** Starts a compaction of a document unless one is already running. */
  schedule(name: string): void {
    if (this.stopped || this.running.has(name)) return
    const run = this.compact(name).finally(() => this.running.delete(name))
    this.running.set(name, run)
  }

  /** Waits for running compactions and cancels retries. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const timer of this.retryTimers) clearTimeout(timer)
    await Promise.allSettled(this.running.values())
  }

  private async compact(name: string): Promise<void> {
    const started = performance.now()
    try {
      const result = await this.store.compact(name)
      this.rememberSnapshot(name, result.snapshotBytes)
      this.onCompacted(name)
      this.logger.debug({
        event: 'document_compacted',
        documentName: name,
        mergedUpdates: result.mergedUpdates,
        snapshotBytes: result.snapshotBytes,
        durationMs: Math.round(performance.now() - started),
      })
    } catch (error) {
      this.logger.error(
        { event: 'compaction_failed', documentName: name, err: error, retryInMs: RETRY_MS },
        'failed to compact a document; retrying',
      )
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer)
        this.schedule(name)
      }, RETRY_MS)
      this.retryTimers.add(timer)
    }
  }

  private rememberSnapshot(name: string, bytes: number): void {
    this.snapshotBytes.delete(name)
    this.snapshotBytes.set(name, bytes)
    // A Map iterates in insertion order, so the first key is the least recently compacted.
    if (this.snapshotBytes.size > REMEMBERED_SNAPSHOTS) {
      const oldest = this.snapshotBytes.keys().next().value
      if (oldest !== undefined) this.snapshotBytes.delete(oldest)
    }
  }
}

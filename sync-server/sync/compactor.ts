import type { Logger } from '../observability/logger.ts'
import type { DocumentStore } from '../persistence/document-store.ts'

/** Update rows of one document that trigger a compaction. */
export const COMPACT_AFTER_ROWS = 200
const RETRY_MS = 5_000

/** Runs compactions in the background, one at a time per document, retrying failures. */
export class Compactor {
  private readonly running = new Map<string, Promise<void>>()
  private readonly retryTimers = new Set<NodeJS.Timeout>()
  private stopped = false

  constructor(
    private readonly store: DocumentStore,
    private readonly logger: Logger,
    private readonly onCompacted: (name: string) => void,
  ) {}

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
}

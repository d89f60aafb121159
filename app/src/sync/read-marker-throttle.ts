import type { MessageId } from '../../../shared/ids.ts'

/** Interval in milliseconds between two writes of the own read marker. */
export const READ_MARKER_INTERVAL_MS = 2_000

/**
 * Limits writes of the own read marker to one per interval. Every marker write is a document
 * update that the server stores, so scrolling through new messages writes only the newest
 * message requested during each interval.
 */
export class ReadMarkerThrottle {
  private requested: MessageId | undefined
  private lastWriteAt = -Infinity
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly write: (messageId: MessageId) => void,
    private readonly intervalMs = READ_MARKER_INTERVAL_MS,
  ) {}

  /** Asks for the marker to move to a message, now or at the end of the current interval. */
  request(messageId: MessageId): void {
    this.requested = messageId
    if (this.timer !== undefined) return

    const wait = this.lastWriteAt + this.intervalMs - Date.now()
    if (wait <= 0) this.flush()
    else this.timer = setTimeout(this.flush, wait)
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.requested = undefined
  }

  private flush = (): void => {
    this.timer = undefined
    const messageId = this.requested
    this.requested = undefined
    if (messageId === undefined) return
    this.lastWriteAt = Date.now()
    this.write(messageId)
  }
}

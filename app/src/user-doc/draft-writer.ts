import type { ConversationId } from '../../../shared/ids.ts'

/** Milliseconds of typing pause before a draft is written to the user's document. */
export const DRAFT_DELAY_MS = 400

/** The part of UserDocument that a DraftWriter writes to. */
export interface DraftStore {
  setDraft(conversationId: ConversationId, text: string): void
}

/**
 * Writes a composer's draft to the user's document once typing pauses, so that each burst
 * of keystrokes costs one update. Call update on every change, and flush on send, on
 * conversation change and on unmount so that the last text is not lost.
 */
export class DraftWriter {
  private timer: ReturnType<typeof setTimeout> | undefined
  private pending: string | undefined

  constructor(
    private readonly store: DraftStore,
    private readonly conversationId: ConversationId,
    private readonly delayMs = DRAFT_DELAY_MS,
  ) {}

  update(text: string): void {
    this.pending = text
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.flush(), this.delayMs)
  }

  /** Writes the pending text now; after a send, pass '' to clear the draft at once. */
  flush(text?: string): void {
    if (text !== undefined) this.pending = text
    clearTimeout(this.timer)
    this.timer = undefined
    const pending = this.pending
    this.pending = undefined
    if (pending !== undefined) this.store.setDraft(this.conversationId, pending)
  }
}

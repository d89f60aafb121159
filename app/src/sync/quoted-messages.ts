import type { ChatMessage } from '../../../shared/chat-document.ts'
import type { MessageId } from '../../../shared/ids.ts'

/** Time in milliseconds before a look-up that failed or found nothing is tried again. */
const RETRY_MS = 30_000

/**
 * Originals of replies that sit in history segments not shown, fetched from the server one
 * by one, so that a quote shows its text without loading every segment up to it. A fetched
 * original is not updated later. Once its segment is shown, the quote reads it from there.
 */
export class QuotedMessages {
  private found: ReadonlyMap<MessageId, ChatMessage> = new Map()
  private readonly pending = new Set<MessageId>()
  private readonly lastFailure = new Map<MessageId, number>()

  constructor(
    /** Returns the message as the server has it, or null when the server lacks it. */
    private readonly fetch: (messageId: MessageId) => Promise<ChatMessage | null>,
    private readonly onFound: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The originals fetched so far. A new map replaces it whenever one is added. */
  get messages(): ReadonlyMap<MessageId, ChatMessage> {
    return this.found
  }

  /**
   * Fetches an original unless it was fetched already, is being fetched, or failed less
   * than RETRY_MS ago.
   */
  request(messageId: MessageId): void {
    if (this.found.has(messageId) || this.pending.has(messageId)) return
    const failed = this.lastFailure.get(messageId)
    if (failed !== undefined && this.now() - failed < RETRY_MS) return

    this.pending.add(messageId)
    const settle = (message: ChatMessage | null) => {
      this.pending.delete(messageId)
      if (!message) {
        this.lastFailure.set(messageId, this.now())
        return
      }
      this.lastFailure.delete(messageId)
      this.found = new Map(this.found).set(messageId, message)
      this.onFound()
    }
    this.fetch(messageId).then(settle, () => settle(null))
  }
}

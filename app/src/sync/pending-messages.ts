import type { MessageId, UserId } from '../../../shared/ids.ts'
import { isQuotaExceeded } from './storage-errors.ts'

/** Returns the localStorage key of a document's pending message ids. */
export function pendingStorageKey(userId: UserId, documentName: string): string {
  return `parley:${userId}:pending:${documentName}`
}

/**
 * Ids of own messages written locally but not yet acknowledged by the server.
 * Stored in localStorage, so that a message written offline still shows as pending after a reload.
 * NOTE: two tabs with the same conversation open each write their own set to the same key, so
 * the last tab to save wins and the other tab's unsent ids may show as sent after a reload.
 */
export class PendingMessages {
  private readonly ids: Set<MessageId>

  constructor(
    private readonly storageKey: string,
    private readonly onQuotaExceeded: () => void = () => {},
  ) {
    this.ids = new Set(readIds(storageKey))
  }

  has(id: MessageId): boolean {
    return this.ids.has(id)
  }

  get size(): number {
    return this.ids.size
  }

  add(id: MessageId): void {
    this.ids.add(id)
    this.save()
  }

  /** Removes every id and returns the removed ones. */
  takeAll(): MessageId[] {
    const removed = [...this.ids]
    this.ids.clear()
    this.save()
    return removed
  }

  private save(): void {
    try {
      if (this.ids.size === 0) localStorage.removeItem(this.storageKey)
      else localStorage.setItem(this.storageKey, JSON.stringify([...this.ids]))
    } catch (error) {
      // NOTE: without localStorage (quota, private mode) pending ids live in memory only,
      // so a reload shows unsent messages as sent until the server has them.
      if (isQuotaExceeded(error)) this.onQuotaExceeded()
    }
  }
}

function readIds(storageKey: string): MessageId[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(storageKey) ?? '[]')
    if (!Array.isArray(parsed)) return []
    return parsed.filter((id): id is MessageId => typeof id === 'string')
  } catch {
    return []
  }
}

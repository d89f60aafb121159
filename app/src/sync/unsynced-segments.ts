import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { isQuotaExceeded } from './storage-errors.ts'

/** Returns the localStorage key of a conversation's segments with unsynced changes. */
export function unsyncedSegmentsKey(userId: UserId, conversationId: ConversationId): string {
  return `parley:${userId}:unsynced-segments:${conversationId}`
}

/**
 * Numbers of a conversation's history segments (1 and up) whose local copy contains changes
 * that the server has not stored, such as a reaction added offline to an old message. Stored in
 * localStorage, so that after a reload the conversation opens these segments in the
 * background and sends the changes, even when they are not on screen.
 */
export class UnsyncedSegments {
  private readonly segments: Set<number>

  constructor(
    private readonly storageKey: string,
    private readonly onQuotaExceeded: () => void = () => {},
  ) {
    this.segments = new Set(readSegments(storageKey))
  }

  has(segment: number): boolean {
    return this.segments.has(segment)
  }

  list(): number[] {
    return [...this.segments].sort((a, b) => a - b)
  }

  add(segment: number): void {
    if (segment < 1 || this.segments.has(segment)) return
    this.segments.add(segment)
    this.save()
  }

  remove(segment: number): void {
    if (!this.segments.delete(segment)) return
    this.save()
  }

  private save(): void {
    try {
      if (this.segments.size === 0) localStorage.removeItem(this.storageKey)
      else localStorage.setItem(this.storageKey, JSON.stringify([...this.segments]))
    } catch (error) {
      // NOTE: without localStorage the list lives in memory only, so a change made offline in
      // a segment that is not on screen waits after a reload until that segment is shown.
      if (isQuotaExceeded(error)) this.onQuotaExceeded()
    }
  }
}

function readSegments(storageKey: string): number[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(storageKey) ?? '[]')
    if (!Array.isArray(parsed)) return []
    return parsed.filter(
      (value): value is number => typeof value === 'number' && Number.isSafeInteger(value),
    )
  } catch {
    return []
  }
}

import type { Conversation } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'

function storageKey(userId: UserId): string {
  return `parley:${userId}:conversations`
}

/** Returns the conversation list stored at the last successful fetch, if any. */
export function loadConversations(userId: UserId): Conversation[] | undefined {
  try {
    const stored = localStorage.getItem(storageKey(userId))
    if (stored === null) return undefined
    const parsed: unknown = JSON.parse(stored)
    return Array.isArray(parsed) ? (parsed as Conversation[]) : undefined
  } catch {
    return undefined
  }
}

/** Stores the conversation list so that it shows while offline. */
export function saveConversations(userId: UserId, conversations: Conversation[]): void {
  try {
    localStorage.setItem(storageKey(userId), JSON.stringify(conversations))
  } catch {
    // A full or missing localStorage only costs the offline copy of the list.
  }
}

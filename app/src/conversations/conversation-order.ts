import type { ConversationId } from '../../../shared/ids.ts'
import type { ListedConversation } from './conversation-counts.ts'

/**
 * Orders the list: pinned conversations first, then the rest, each part by last activity,
 * newest first. Ties fall back to the id, so every device shows the same order.
 */
export function orderConversations<T extends ListedConversation>(
  conversations: readonly T[],
  pinned: ReadonlyMap<ConversationId, number>,
): T[] {
  return [...conversations].sort((a, b) => {
    const pinnedA = pinned.has(a.id)
    const pinnedB = pinned.has(b.id)
    if (pinnedA !== pinnedB) return pinnedA ? -1 : 1
    const activity = b.lastActivityAt.localeCompare(a.lastActivityAt)
    return activity !== 0 ? activity : a.id.localeCompare(b.id)
  })
}

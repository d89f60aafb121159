import type { Conversation } from '../../../shared/api.ts'

/**
 * A conversation from the list with the viewer's counts. The counts stay optional because a
 * list stored on the device by an earlier version, or sent by a server without counts, lacks
 * them. The app then shows no badges.
 */
export type ListedConversation = Conversation & {
  /** Messages from others after the viewer's read marker. */
  unreadCount?: number
  /** Unread messages that mention the viewer. */
  mentionCount?: number
}

export function unreadCountOf(conversation: ListedConversation): number {
  return positiveCount(conversation.unreadCount)
}

export function mentionCountOf(conversation: ListedConversation): number {
  return positiveCount(conversation.mentionCount)
}

/** Sums the unread counts, leaving out muted conversations. */
export function totalUnread(
  conversations: readonly ListedConversation[],
  muted: ReadonlySet<string>,
): number {
  let total = 0
  for (const conversation of conversations) {
    if (!muted.has(conversation.id)) total += unreadCountOf(conversation)
  }
  return total
}

/** Formats a count for a badge: 99 and below as is, above as "99+". */
export function badgeText(count: number): string {
  return count > 99 ? '99+' : String(count)
}

function positiveCount(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0
}

import type { Conversation, User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'

/** Returns the title of a conversation as the given user sees it. */
export function conversationTitle(conversation: Conversation, viewerId: UserId): string {
  if (conversation.kind === 'group') {
    if (conversation.title) return conversation.title
    const names = otherMembers(conversation, viewerId).map((user) => user.displayName)
    return names.length > 0 ? names.join(', ') : 'Empty group'
  }
  return otherMembers(conversation, viewerId)[0]?.displayName ?? 'Direct chat'
}

/** Returns the members other than the viewer. */
export function otherMembers(conversation: Conversation, viewerId: UserId): User[] {
  return conversation.members.map((member) => member.user).filter((user) => user.id !== viewerId)
}

/** Returns the display name of a member, or a placeholder for users who left. */
export function memberName(conversation: Conversation | undefined, userId: UserId): string {
  const member = conversation?.members.find((candidate) => candidate.user.id === userId)
  return member?.user.displayName ?? 'Former member'
}

/** Returns one or two initials for an avatar. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean)
  const letters = words.length > 1 ? [words[0], words[1]] : [words[0]]
  return letters.map((word) => [...(word ?? '')][0]?.toUpperCase() ?? '').join('') || '?'
}

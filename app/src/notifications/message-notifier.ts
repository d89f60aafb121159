import type { User } from '../../../shared/api.ts'
import { mentionedNames } from '../../../shared/chat-document.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import type { ListedConversation } from '../conversations/conversation-counts.ts'
import { mentionCountOf, unreadCountOf } from '../conversations/conversation-counts.ts'
import { conversationTitle, memberName } from '../conversations/conversation-title.ts'

/** A new mention or direct message in one conversation, worth a system notification. */
export interface NewActivity {
  conversationId: ConversationId
  kind: 'mention' | 'direct'
}

/** Title and text of a system notification. */
export interface MessageNotice {
  conversationId: ConversationId
  title: string
  body: string
}

interface Seen {
  unread: number
  mentions: number
  /** Identity of the newest message preview: author, time and text. */
  lastKey: string | null
}

const UNSEEN: Seen = { unread: 0, mentions: 0, lastKey: null }
/** Characters of the message shown in a notification. */
const BODY_MAX_CHARS = 140

/**
 * Finds new mentions and direct messages by comparing each fetched conversation list with the
 * one before. With the server's counts a rise in `mentionCount` or, for a direct chat, in
 * `unreadCount` counts. Without them a new preview from someone else counts, and it is a
 * mention when its text names the viewer's @username.
 */
export class MessageNotifier {
  private seen: Map<ConversationId, Seen> | undefined

  constructor(private readonly viewer: User) {}

  /**
   * Returns what is new since the previous call, skipping muted conversations. The first call
   * only records the list, so what arrived before the app opened stays quiet.
   */
  update(
    conversations: readonly ListedConversation[],
    muted: ReadonlySet<ConversationId>,
  ): NewActivity[] {
    const previous = this.seen
    this.seen = new Map(
      conversations.map((conversation) => [conversation.id, seenOf(conversation)]),
    )
    if (!previous) return []

    const found: NewActivity[] = []
    for (const conversation of conversations) {
      if (muted.has(conversation.id)) continue
      const kind = this.activityOf(conversation, previous.get(conversation.id) ?? UNSEEN)
      if (kind) found.push({ conversationId: conversation.id, kind })
    }
    return found
  }

  private activityOf(
    conversation: ListedConversation,
    before: Seen,
  ): NewActivity['kind'] | undefined {
    const now = seenOf(conversation)
    const last = conversation.lastMessage
    const incoming =
      last !== null && last.authorId !== this.viewer.id && now.lastKey !== before.lastKey

    const mentioned =
      typeof conversation.mentionCount === 'number'
        ? now.mentions > before.mentions
        : incoming && this.namesViewer(last.text)
    if (mentioned) return 'mention'
    const counted = typeof conversation.unreadCount === 'number'
    const direct = counted ? now.unread > before.unread : incoming
    return conversation.kind === 'direct' && direct ? 'direct' : undefined
  }

  private namesViewer(text: string): boolean {
    return mentionedNames(text).includes(this.viewer.username.toLowerCase())
  }
}

/**
 * Builds the notification for new activity from the newest copy of the conversation. The
 * preview is the newest message, which for a mention may be a later message than the mention.
 */
export function describeActivity(
  activity: NewActivity,
  conversation: ListedConversation,
  viewer: User,
): MessageNotice {
  const title = conversationTitle(conversation, viewer.id)
  const last = conversation.lastMessage
  const fromOther = last !== null && last.authorId !== viewer.id
  const text = fromOther ? truncate(last.text) : 'New message'
  if (activity.kind === 'direct' || conversation.kind === 'direct') {
    return { conversationId: conversation.id, title, body: text }
  }
  const author = fromOther ? `${memberName(conversation, last.authorId)}: ` : ''
  return {
    conversationId: conversation.id,
    title: `You were mentioned in ${title}`,
    body: `${author}${text}`,
  }
}

function seenOf(conversation: ListedConversation): Seen {
  const last = conversation.lastMessage
  return {
    unread: unreadCountOf(conversation),
    mentions: mentionCountOf(conversation),
    lastKey: last ? `${last.authorId}\n${last.createdAt}\n${last.text}` : null,
  }
}

function truncate(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > BODY_MAX_CHARS ? `${flat.slice(0, BODY_MAX_CHARS - 1)}…` : flat
}

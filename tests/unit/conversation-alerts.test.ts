import { describe, expect, it } from 'vitest'
import type { User } from '../../shared/api.ts'
import type { ConversationId, UserId } from '../../shared/ids.ts'
import type { ListedConversation } from '../../app/src/conversations/conversation-counts.ts'
import { badgeText, totalUnread } from '../../app/src/conversations/conversation-counts.ts'
import { orderConversations } from '../../app/src/conversations/conversation-order.ts'
import { MessageNotifier, describeActivity } from '../../app/src/notifications/message-notifier.ts'

const ben: User = { id: 'ben-user-id' as UserId, username: 'ben', displayName: 'Ben Okafor' }
const ana: User = { id: 'ana-user-id' as UserId, username: 'ana', displayName: 'Ana Lima' }

function conversation(id: string, changes: Partial<ListedConversation> = {}): ListedConversation {
  return {
    id: id as ConversationId,
    kind: 'group',
    title: `Group ${id}`,
    members: [
      { user: ana, role: 'admin' },
      { user: ben, role: 'member' },
    ],
    createdAt: '2026-01-01T10:00:00.000Z',
    lastActivityAt: '2026-01-01T10:00:00.000Z',
    lastMessage: null,
    unreadCount: 0,
    mentionCount: 0,
    openSegment: 0,
    ...changes,
  }
}

function message(text: string, createdAt = '2026-01-01T11:00:00.000Z') {
  return { authorId: ana.id, text, createdAt }
}

const none = new Set<ConversationId>()

describe('orderConversations', () => {
  it('puts pinned first, each part by last activity', () => {
    const old = conversation('old', { lastActivityAt: '2026-01-01T09:00:00.000Z' })
    const recent = conversation('recent', { lastActivityAt: '2026-01-03T09:00:00.000Z' })
    const middle = conversation('middle', { lastActivityAt: '2026-01-02T09:00:00.000Z' })
    const pinned = new Map([[old.id, 1]])

    const ordered = orderConversations([recent, middle, old], pinned)

    expect(ordered.map((item) => item.id)).toEqual(['old', 'recent', 'middle'])
  })
})

describe('conversation counts', () => {
  it('sums unread counts without muted conversations', () => {
    const loud = conversation('loud', { unreadCount: 3 })
    const quiet = conversation('quiet', { unreadCount: 5 })
    expect(totalUnread([loud, quiet], new Set([quiet.id]))).toBe(3)
  })

  it('caps badge text at 99+', () => {
    expect(badgeText(7)).toBe('7')
    expect(badgeText(120)).toBe('99+')
  })
})

describe('MessageNotifier', () => {
  it('stays quiet on the first list', () => {
    const notifier = new MessageNotifier(ben)
    const direct = conversation('direct', { kind: 'direct', unreadCount: 2 })
    expect(notifier.update([direct], none)).toEqual([])
  })

  it('reports a new direct message', () => {
    const notifier = new MessageNotifier(ben)
    notifier.update([conversation('direct', { kind: 'direct' })], none)

    const found = notifier.update(
      [conversation('direct', { kind: 'direct', unreadCount: 1, lastMessage: message('hi') })],
      none,
    )

    expect(found).toEqual([{ conversationId: 'direct', kind: 'direct' }])
  })

  it('reports a mention in a group but not other group messages', () => {
    const notifier = new MessageNotifier(ben)
    notifier.update([conversation('group')], none)

    const plain = notifier.update(
      [conversation('group', { unreadCount: 1, lastMessage: message('hello all') })],
      none,
    )
    const mention = notifier.update(
      [conversation('group', { unreadCount: 2, mentionCount: 1, lastMessage: message('@ben') })],
      none,
    )

    expect(plain).toEqual([])
    expect(mention).toEqual([{ conversationId: 'group', kind: 'mention' }])
  })

  it('skips muted conversations', () => {
    const notifier = new MessageNotifier(ben)
    const muted = new Set(['direct' as ConversationId])
    notifier.update([conversation('direct', { kind: 'direct' })], muted)

    const found = notifier.update(
      [conversation('direct', { kind: 'direct', unreadCount: 1, lastMessage: message('hi') })],
      muted,
    )

    expect(found).toEqual([])
  })

  it('falls back to previews without server counts', () => {
    const notifier = new MessageNotifier(ben)
    const counts = { unreadCount: undefined, mentionCount: undefined }
    notifier.update([conversation('group', counts)], none)

    const found = notifier.update(
      [conversation('group', { ...counts, lastMessage: message('ping @ben, see this') })],
      none,
    )

    expect(found).toEqual([{ conversationId: 'group', kind: 'mention' }])
  })

  it('describes a mention with the newest message', () => {
    const group = conversation('group', { lastMessage: message('see the plan') })
    const notice = describeActivity({ conversationId: group.id, kind: 'mention' }, group, ben)
    expect(notice.title).toBe('You were mentioned in Group group')
    expect(notice.body).toBe('Ana Lima: see the plan')
  })
})

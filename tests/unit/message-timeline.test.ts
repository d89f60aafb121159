import { describe, expect, it } from 'vitest'
import type { User } from '../../shared/api.ts'
import type { ChatMessage, ReadMarker, SystemEvent } from '../../shared/chat-document.ts'
import { mentionedNames } from '../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../shared/ids.ts'
import {
  findMentionQuery,
  insertMention,
  suggestMembers,
} from '../../app/src/messages/mention-query.ts'
import { splitMentions } from '../../app/src/messages/mention-text.ts'
import { describeSystemEvent } from '../../app/src/messages/system-event-text.ts'
import {
  buildTimeline,
  firstUnreadMessage,
  readersByMessage,
} from '../../app/src/messages/timeline.ts'
import type { MessageView } from '../../app/src/sync/conversation-snapshot.ts'

const ana = 'user-ana-1' as UserId
const ben = 'user-ben-1' as UserId
const cara = 'user-cara-1' as UserId

function view(id: string, authorId: UserId, extra: Partial<ChatMessage> = {}): MessageView {
  const message: ChatMessage = {
    id: id as MessageId,
    authorId,
    text: `text of ${id}`,
    createdAt: 0,
    mentions: [],
    deleted: false,
    ...extra,
  }
  return { message, state: authorId === ana ? 'sent' : 'other', failure: undefined, segment: 0 }
}

function event(id: string, afterMessageId: string | null): SystemEvent {
  return {
    id,
    type: 'member_added',
    actorId: ana,
    targetId: ben,
    at: 0,
    afterMessageId: afterMessageId as MessageId | null,
  }
}

function marker(messageId: string): ReadMarker {
  return { messageId: messageId as MessageId, at: 0 }
}

function kinds(items: ReturnType<typeof buildTimeline>): string[] {
  return items.map((item) => {
    switch (item.kind) {
      case 'message':
        return item.view.message.id
      case 'event':
        return `event:${item.event.id}`
      case 'new-messages':
        return 'divider'
    }
  })
}

describe('buildTimeline', () => {
  const messages = [view('m1', ana), view('m2', ben), view('m3', ben)]

  it('places events after their message', () => {
    const events = [event('e0', null), event('e1', 'm1'), event('e2', 'm1'), event('e3', 'm3')]
    expect(kinds(buildTimeline(messages, events, undefined))).toEqual([
      'event:e0',
      'm1',
      'event:e1',
      'event:e2',
      'm2',
      'm3',
      'event:e3',
    ])
  })

  it('puts events with an unknown message last', () => {
    const events = [event('e1', 'missing'), event('e2', 'm1')]
    expect(kinds(buildTimeline(messages, events, undefined))).toEqual([
      'm1',
      'event:e2',
      'm2',
      'm3',
      'event:e1',
    ])
  })

  it('leaves out events of history not shown', () => {
    const events = [event('e0', null), event('e1', 'older'), event('e2', 'm2')]
    const history = { earlier: true, synced: false }
    expect(kinds(buildTimeline(messages, events, undefined, history))).toEqual([
      'm1',
      'm2',
      'event:e2',
      'm3',
    ])
  })

  it('leaves out unknown anchors once synced', () => {
    const events = [event('e1', 'older')]
    const history = { earlier: true, synced: true }
    expect(kinds(buildTimeline(messages, events, undefined, history))).toEqual(['m1', 'm2', 'm3'])
  })

  it('keeps a newer unknown anchor while syncing', () => {
    const events = [event('e1', 'm1'), event('e2', 'not-yet-here')]
    const history = { earlier: true, synced: false }
    expect(kinds(buildTimeline(messages, events, undefined, history))).toEqual([
      'm1',
      'event:e1',
      'm2',
      'm3',
      'event:e2',
    ])
  })

  it('puts the divider before the first unread message', () => {
    expect(kinds(buildTimeline(messages, [], 'm2' as MessageId))).toEqual([
      'm1',
      'divider',
      'm2',
      'm3',
    ])
  })
})

describe('firstUnreadMessage', () => {
  const messages = [view('m1', ben), view('m2', ana), view('m3', ben), view('m4', ben)]

  it('skips own messages after the marker', () => {
    expect(firstUnreadMessage(messages, marker('m1'), ana)).toBe('m3')
  })

  it('is undefined when the newest is read', () => {
    expect(firstUnreadMessage(messages, marker('m4'), ana)).toBeUndefined()
  })

  it('counts everything as unread without a marker', () => {
    expect(firstUnreadMessage(messages, undefined, ana)).toBe('m1')
  })

  it('is undefined for a marker on an unknown message', () => {
    expect(firstUnreadMessage(messages, marker('elsewhere'), ana)).toBeUndefined()
  })

  it('uses the marker time for an unloaded message', () => {
    const later = [
      view('m5', ben, { createdAt: 100 }),
      view('m6', ana, { createdAt: 300 }),
      view('m7', ben, { createdAt: 400 }),
    ]
    const olderMarker: ReadMarker = { messageId: 'in-older-segment' as MessageId, at: 200 }
    expect(firstUnreadMessage(later, olderMarker, ana)).toBe('m7')
  })
})

describe('readersByMessage', () => {
  const messages = [
    view('m1', ana),
    view('m2', ana),
    view('m3', ben),
    view('m4', ana, { deleted: true, text: '' }),
    view('m5', ben),
  ]

  it('shows each reader under the newest own message read', () => {
    const markers = new Map([
      [ben, marker('m5')],
      [cara, marker('m1')],
      [ana, marker('m5')],
    ])
    const readers = readersByMessage(messages, markers, ana)
    expect(readers.get('m2' as MessageId)).toEqual([ben])
    expect(readers.get('m1' as MessageId)).toEqual([cara])
    expect(readers.has('m4' as MessageId)).toBe(false)
  })

  it('leaves out markers before any own message', () => {
    const readers = readersByMessage(
      [view('m1', ben), view('m2', ana)],
      new Map([[ben, marker('m1')]]),
      ana,
    )
    expect(readers.size).toBe(0)
  })
})

describe('splitMentions', () => {
  const texts = [
    'hi @ana_1 and @ben.o.',
    'mail ana@example.com, not a mention',
    '@cara at the start, @x too short',
    'twice @Ana_1 @ana_1!',
    'no mentions at all',
  ]

  it('finds the names mentionedNames finds', () => {
    for (const text of texts) {
      const names = splitMentions(text).flatMap((part) =>
        part.kind === 'mention' ? [part.name] : [],
      )
      expect([...new Set(names)], text).toEqual(mentionedNames(text))
    }
  })

  it('keeps every character of the text', () => {
    for (const text of texts) {
      expect(
        splitMentions(text)
          .map((part) => part.text)
          .join(''),
      ).toBe(text)
    }
  })

  it('leaves a trailing dot outside the mention', () => {
    expect(splitMentions('ask @ben.o.')).toEqual([
      { kind: 'text', text: 'ask ' },
      { kind: 'mention', text: '@ben.o', name: 'ben.o' },
      { kind: 'text', text: '.' },
    ])
  })
})

describe('mention autocomplete', () => {
  const members: User[] = [
    { id: ana, username: 'ana_l', displayName: 'Ana Lima' },
    { id: ben, username: 'bokafor', displayName: 'Ben Okafor' },
    { id: cara, username: 'cara', displayName: 'Cara Diaz' },
  ]

  it('finds the query at the caret', () => {
    expect(findMentionQuery('hello @be', 9)).toEqual({ start: 6, end: 9, query: 'be' })
    expect(findMentionQuery('hello @', 7)).toEqual({ start: 6, end: 7, query: '' })
  })

  it('ignores an address or a finished word', () => {
    expect(findMentionQuery('ana@exa', 7)).toBeUndefined()
    expect(findMentionQuery('@ben hello', 10)).toBeUndefined()
  })

  it('matches username and display name prefixes', () => {
    expect(suggestMembers(members, 'ok', ana).map((user) => user.id)).toEqual([ben])
    expect(suggestMembers(members, 'bo', ana).map((user) => user.id)).toEqual([ben])
    expect(suggestMembers(members, '', ana).map((user) => user.id)).toEqual([ben, cara])
  })

  it('inserts the username and a space', () => {
    const text = 'hi @be, see you'
    const query = findMentionQuery(text, 6)
    expect(query).toBeDefined()
    if (!query) return
    expect(insertMention(text, query, 'bokafor')).toEqual({
      text: 'hi @bokafor , see you',
      caret: 12,
    })
  })
})

describe('describeSystemEvent', () => {
  const names = new Map<UserId, string>([
    [ana, 'Ana Lima'],
    [ben, 'Ben Okafor'],
  ])
  const nameOf = (id: UserId) => names.get(id)

  it('names the actor and the target', () => {
    expect(describeSystemEvent(event('e1', null), nameOf)).toBe('Ana Lima added Ben Okafor')
  })

  it('reads well for an unknown user', () => {
    const left: SystemEvent = { ...event('e2', null), type: 'member_left', actorId: cara }
    expect(describeSystemEvent(left, nameOf)).toBe('A former member left')
  })

  it('keeps a lowercase display name', () => {
    const lowercase = (id: UserId) => (id === ana ? 'eBay shop' : names.get(id))
    expect(describeSystemEvent(event('e3', null), lowercase)).toBe('eBay shop added Ben Okafor')
  })
})

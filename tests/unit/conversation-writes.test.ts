import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  deleteMessage,
  listMessages,
  listReactions,
  readMarkers,
  sendMessage,
} from '../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../shared/ids.ts'
import {
  writeMessage,
  writeReaction,
  writeReadMarker,
} from '../../app/src/sync/conversation-writes.ts'
import { ReadMarkerThrottle } from '../../app/src/sync/read-marker-throttle.ts'
import { readUnsentMessages, writeUnsentAgain } from '../../app/src/sync/unsent-messages.ts'

const ana = 'user-ana-1' as UserId
const ben = 'user-ben-1' as UserId

function conversation(): { doc: Y.Doc; ids: MessageId[] } {
  const doc = new Y.Doc()
  const ids = ['one', 'two', 'three'].map(
    (text, index) => sendMessage(doc, { authorId: index === 1 ? ben : ana, text }).id,
  )
  return { doc, ids }
}

describe('writeReadMarker', () => {
  it('moves the marker forward', () => {
    const { doc, ids } = conversation()
    expect(writeReadMarker(doc, ana, ids[1] as MessageId)).toBe(true)
    expect(writeReadMarker(doc, ana, ids[2] as MessageId)).toBe(true)
    expect(readMarkers(doc).get(ana)?.messageId).toBe(ids[2])
  })

  it('never moves the marker back', () => {
    const { doc, ids } = conversation()
    writeReadMarker(doc, ana, ids[2] as MessageId)
    expect(writeReadMarker(doc, ana, ids[0] as MessageId)).toBe(false)
    expect(readMarkers(doc).get(ana)?.messageId).toBe(ids[2])
  })

  it('skips a message the document lacks', () => {
    const { doc } = conversation()
    expect(writeReadMarker(doc, ana, 'missing-id' as MessageId)).toBe(false)
    expect(readMarkers(doc).has(ana)).toBe(false)
  })

  it('keeps a marker on a message not yet synced', () => {
    const { doc, ids } = conversation()
    doc.getMap('reads').set(ana, { messageId: 'newer-elsewhere', at: 1 })
    expect(writeReadMarker(doc, ana, ids[2] as MessageId)).toBe(false)
  })
})

describe('writeReaction', () => {
  it('toggles only the own key', () => {
    const { doc, ids } = conversation()
    const messageId = ids[1] as MessageId
    expect(writeReaction(doc, ana, messageId, '👍')).toEqual({ ok: true, added: true })
    expect(listReactions(doc).get(messageId)?.get('👍')).toEqual([ana])
    expect(writeReaction(doc, ana, messageId, '👍')).toEqual({ ok: true, added: false })
    expect(listReactions(doc).size).toBe(0)
  })

  it('rejects an unknown message', () => {
    const { doc } = conversation()
    expect(writeReaction(doc, ana, 'missing-id' as MessageId, '👍')).toEqual({
      ok: false,
      reason: 'not_found',
    })
  })

  it('rejects an over-long reaction', () => {
    const { doc, ids } = conversation()
    const result = writeReaction(doc, ana, ids[0] as MessageId, '👍'.repeat(20))
    expect(result).toEqual({ ok: false, reason: 'invalid_reaction' })
  })
})

describe('writeMessage', () => {
  it('drops a reply target the document lacks', () => {
    const { doc } = conversation()
    const result = writeMessage(doc, ana, { text: 'hi', replyTo: 'missing-id' as MessageId })
    expect(result.ok).toBe(true)
    expect(listMessages(doc).at(-1)?.replyTo).toBeUndefined()
  })

  it('keeps a known reply target and mentions', () => {
    const { doc, ids } = conversation()
    const replyTo = ids[1] as MessageId
    const result = writeMessage(doc, ana, { text: 'hi @ben', replyTo, mentions: [ben] })
    expect(result.ok).toBe(true)
    const written = listMessages(doc).at(-1)
    expect(written?.replyTo).toBe(replyTo)
    expect(written?.mentions).toEqual([ben])
  })

  it('rejects an over-long text without writing', () => {
    const { doc } = conversation()
    const result = writeMessage(doc, ana, { text: 'x'.repeat(16 * 1024 + 1) })
    expect(result).toMatchObject({ ok: false, code: 'too_large' })
    expect(listMessages(doc)).toHaveLength(3)
  })
})

describe('unsent messages', () => {
  it('are written again under new ids', () => {
    const { doc, ids } = conversation()
    const unsentId = ids[2] as MessageId
    const unsent = readUnsentMessages(doc, ana, [unsentId])
    expect(unsent.map((message) => message.text)).toEqual(['three'])

    // The server's copy lacks the unsent message.
    const server = new Y.Doc()
    sendMessage(server, { authorId: ana, text: 'one' })
    const { written, lost } = writeUnsentAgain(server, ana, unsent)
    expect(lost).toBe(0)
    expect(written).toHaveLength(1)
    expect(written[0]).not.toBe(unsentId)
    expect(listMessages(server).map((message) => message.text)).toEqual(['one', 'three'])
  })

  it('are skipped when the server has them', () => {
    const { doc, ids } = conversation()
    const unsent = readUnsentMessages(doc, ana, [ids[2] as MessageId])
    const { written } = writeUnsentAgain(doc, ana, unsent)
    expect(written).toEqual([])
    expect(listMessages(doc)).toHaveLength(3)
  })

  it('leave out deleted and others’ messages', () => {
    const { doc, ids } = conversation()
    deleteMessage(doc, { messageId: ids[0] as string, userId: ana })
    expect(readUnsentMessages(doc, ana, ids)).toEqual([
      expect.objectContaining({ id: ids[2], text: 'three' }),
    ])
  })
})

describe('ReadMarkerThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('writes at once, then the newest per interval', () => {
    const write = vi.fn()
    const throttle = new ReadMarkerThrottle(write, 1_000)
    throttle.request('a' as MessageId)
    expect(write).toHaveBeenCalledTimes(1)

    throttle.request('b' as MessageId)
    throttle.request('c' as MessageId)
    expect(write).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(1_000)
    expect(write).toHaveBeenCalledTimes(2)
    expect(write).toHaveBeenLastCalledWith('c')
  })

  it('drops a pending write on cancel', () => {
    const write = vi.fn()
    const throttle = new ReadMarkerThrottle(write, 1_000)
    throttle.request('a' as MessageId)
    throttle.request('b' as MessageId)
    throttle.cancel()
    vi.advanceTimersByTime(5_000)
    expect(write).toHaveBeenCalledTimes(1)
  })
})

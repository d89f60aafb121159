import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { ConversationId } from '../../shared/ids.ts'
import { DraftWriter } from '../../app/src/user-doc/draft-writer.ts'
import { parseStatelessMessage } from '../../app/src/user-doc/user-document.ts'
import {
  MAX_DRAFT_LENGTH,
  forgetConversation,
  readPreferences,
  writeDraft,
  writeMuted,
  writePinned,
} from '../../app/src/user-doc/user-roots.ts'

const chat = 'conversation-one' as ConversationId
const other = 'conversation-two' as ConversationId

/** Applies each document's changes to the other, as two synced devices would. */
function exchange(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

describe('user document roots', () => {
  it('reads drafts, mutes and pins', () => {
    const doc = new Y.Doc()
    writeDraft(doc, chat, 'half a thought')
    writeMuted(doc, chat, true)
    writePinned(doc, other, true, 1_000)

    const preferences = readPreferences(doc)
    expect(preferences.drafts.get(chat)).toBe('half a thought')
    expect(preferences.muted.has(chat)).toBe(true)
    expect(preferences.muted.has(other)).toBe(false)
    expect(preferences.pinned.get(other)).toBe(1_000)
  })

  it('removes blank drafts, unmutes and unpins', () => {
    const doc = new Y.Doc()
    writeDraft(doc, chat, 'text')
    writeMuted(doc, chat, true)
    writePinned(doc, chat, true)

    writeDraft(doc, chat, '  \n')
    writeMuted(doc, chat, false)
    writePinned(doc, chat, false)

    expect(doc.getMap('drafts').size).toBe(0)
    expect(doc.getMap('muted').size).toBe(0)
    expect(doc.getMap('pinned').size).toBe(0)
  })

  it('keeps the first pin time when pinned again', () => {
    const doc = new Y.Doc()
    writePinned(doc, chat, true, 1_000)
    writePinned(doc, chat, true, 2_000)
    expect(readPreferences(doc).pinned.get(chat)).toBe(1_000)
  })

  it('cuts drafts at the maximum length', () => {
    const doc = new Y.Doc()
    writeDraft(doc, chat, 'x'.repeat(MAX_DRAFT_LENGTH + 10))
    expect(readPreferences(doc).drafts.get(chat)?.length).toBe(MAX_DRAFT_LENGTH)
  })

  it('skips values of the wrong type', () => {
    const doc = new Y.Doc()
    doc.getMap('drafts').set(chat, 42)
    doc.getMap('muted').set(chat, 'yes')
    doc.getMap('pinned').set(chat, true)

    const preferences = readPreferences(doc)
    expect(preferences.drafts.size).toBe(0)
    expect(preferences.muted.size).toBe(0)
    expect(preferences.pinned.size).toBe(0)
  })

  it('forgets every entry of a conversation', () => {
    const doc = new Y.Doc()
    writeDraft(doc, chat, 'text')
    writeMuted(doc, chat, true)
    writePinned(doc, chat, true)
    writeMuted(doc, other, true)

    forgetConversation(doc, chat)

    const preferences = readPreferences(doc)
    expect(preferences.drafts.has(chat)).toBe(false)
    expect(preferences.muted.has(chat)).toBe(false)
    expect(preferences.pinned.has(chat)).toBe(false)
    expect(preferences.muted.has(other)).toBe(true)
  })

  it('converges changes made offline on two devices', () => {
    const laptop = new Y.Doc()
    const phone = new Y.Doc()
    writePinned(laptop, chat, true, 1_000)
    exchange(laptop, phone)

    writeMuted(phone, chat, true)
    writePinned(phone, chat, false)
    writeDraft(laptop, chat, 'from the laptop')
    writeDraft(phone, chat, 'from the phone')
    exchange(laptop, phone)

    const onLaptop = readPreferences(laptop)
    const onPhone = readPreferences(phone)
    expect(onLaptop.muted.has(chat)).toBe(true)
    expect(onLaptop.pinned.has(chat)).toBe(false)
    expect(onLaptop.drafts.get(chat)).toBe(onPhone.drafts.get(chat))
    expect(onPhone.muted.has(chat)).toBe(true)
    expect(onPhone.pinned.has(chat)).toBe(false)
  })
})

describe('parseStatelessMessage', () => {
  it('reads conversations_changed', () => {
    const payload = JSON.stringify({ type: 'conversations_changed', conversationId: 'abcdefgh' })
    expect(parseStatelessMessage(payload)).toEqual({
      type: 'conversations_changed',
      conversationId: 'abcdefgh',
    })
  })

  it('ignores unknown and malformed payloads', () => {
    expect(parseStatelessMessage('not json')).toBeUndefined()
    expect(parseStatelessMessage('null')).toBeUndefined()
    expect(parseStatelessMessage(JSON.stringify({ type: 'something_else' }))).toBeUndefined()
  })
})

describe('DraftWriter', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('writes once typing pauses', () => {
    vi.useFakeTimers()
    const setDraft = vi.fn()
    const writer = new DraftWriter({ setDraft }, chat, 400)

    writer.update('h')
    writer.update('he')
    vi.advanceTimersByTime(399)
    expect(setDraft).not.toHaveBeenCalled()
    writer.update('hey')
    vi.advanceTimersByTime(400)

    expect(setDraft).toHaveBeenCalledTimes(1)
    expect(setDraft).toHaveBeenCalledWith(chat, 'hey')
  })

  it('flushes the pending text at once', () => {
    vi.useFakeTimers()
    const setDraft = vi.fn()
    const writer = new DraftWriter({ setDraft }, chat, 400)

    writer.update('sent text')
    writer.flush('')
    vi.advanceTimersByTime(1_000)

    expect(setDraft).toHaveBeenCalledTimes(1)
    expect(setDraft).toHaveBeenCalledWith(chat, '')
  })
})

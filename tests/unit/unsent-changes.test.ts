import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  deleteMessage,
  editMessage,
  listMessages,
  listReactions,
  sendMessage,
  toggleReaction,
} from '../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../shared/ids.ts'
import { writeUnsentChangesAgain } from '../../app/src/sync/unsent-changes.ts'

const ana = 'user-ana-1' as UserId
const ben = 'user-ben-1' as UserId

function copyOf(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}

/**
 * Creates a segment as the server stores it and a device's copy of it. Both contain two
 * messages of Ana's and one of Ben's, which Ana reacted to with a thumbs up.
 */
function setup() {
  const server = new Y.Doc()
  const first = sendMessage(server, { authorId: ana, text: 'first', now: 1_000 })
  const second = sendMessage(server, { authorId: ana, text: 'second', now: 2_000 })
  const bens = sendMessage(server, { authorId: ben, text: 'from Ben', now: 3_000 })
  toggleReaction(server, { messageId: bens.id, userId: ana, emoji: '👍' })
  const device = copyOf(server)
  return { server, device, first, second, bens }
}

function textOf(doc: Y.Doc, id: MessageId): string | undefined {
  return listMessages(doc).find((message) => message.id === id)?.text
}

function reactionsOf(doc: Y.Doc, id: MessageId): Record<string, string[]> {
  return Object.fromEntries(listReactions(doc).get(id) ?? [])
}

describe('writeUnsentChangesAgain', () => {
  it('writes offline edits, deletions and reactions into the copy synced anew', () => {
    const { server, device, first, second, bens } = setup()
    editMessage(device, { messageId: first.id, userId: ana, text: 'first, edited', now: 5_000 })
    deleteMessage(device, { messageId: second.id, userId: ana })
    toggleReaction(device, { messageId: bens.id, userId: ana, emoji: '🎉' })
    toggleReaction(device, { messageId: bens.id, userId: ana, emoji: '👍' })
    const offline = sendMessage(device, { authorId: ana, text: 'written offline' })
    // Meanwhile Ben reacts on the server.
    toggleReaction(server, { messageId: first.id, userId: ben, emoji: '❤️' })

    const synced = copyOf(server)
    const written = writeUnsentChangesAgain(synced, Y.encodeStateAsUpdate(device), ana)

    expect(written).toBe(4)
    expect(textOf(synced, first.id)).toBe('first, edited')
    expect(listMessages(synced).find((message) => message.id === second.id)?.deleted).toBe(true)
    expect(reactionsOf(synced, bens.id)).toEqual({ '🎉': [ana] })
    expect(reactionsOf(synced, first.id)).toEqual({ '❤️': [ben] })
    // The new message is written again elsewhere, with a new id.
    expect(textOf(synced, offline.id)).toBeUndefined()
  })

  it('writes nothing that reached the server before the rejection', () => {
    const { server, device, first, bens } = setup()
    const stateBefore = Y.encodeStateVector(device)
    editMessage(device, { messageId: first.id, userId: ana, text: 'edited online', now: 5_000 })
    toggleReaction(device, { messageId: bens.id, userId: ana, emoji: '👍' })
    Y.applyUpdate(server, Y.encodeStateAsUpdate(device, stateBefore))
    sendMessage(device, { authorId: ana, text: 'rejected' })

    const synced = copyOf(server)
    const vectorBefore = Y.encodeStateVector(synced)
    expect(writeUnsentChangesAgain(synced, Y.encodeStateAsUpdate(device), ana)).toBe(0)
    expect(Y.encodeStateVector(synced)).toEqual(vectorBefore)
  })

  it('keeps a later edit from another device', () => {
    const { server, device, first } = setup()
    editMessage(device, { messageId: first.id, userId: ana, text: 'older edit', now: 5_000 })
    editMessage(server, { messageId: first.id, userId: ana, text: 'newer edit', now: 6_000 })

    const synced = copyOf(server)
    expect(writeUnsentChangesAgain(synced, Y.encodeStateAsUpdate(device), ana)).toBe(0)
    expect(textOf(synced, first.id)).toBe('newer edit')
  })

  it('drops an edit to a message deleted meanwhile', () => {
    const { server, device, first } = setup()
    editMessage(device, { messageId: first.id, userId: ana, text: 'too late', now: 5_000 })
    deleteMessage(server, { messageId: first.id, userId: ana })

    const synced = copyOf(server)
    expect(writeUnsentChangesAgain(synced, Y.encodeStateAsUpdate(device), ana)).toBe(0)
    expect(textOf(synced, first.id)).toBe('')
  })

  it('keeps a reaction that another device added meanwhile', () => {
    const { server, device, bens } = setup()
    toggleReaction(server, { messageId: bens.id, userId: ana, emoji: '🎉' })
    sendMessage(device, { authorId: ana, text: 'rejected' })

    const synced = copyOf(server)
    expect(writeUnsentChangesAgain(synced, Y.encodeStateAsUpdate(device), ana)).toBe(0)
    expect(reactionsOf(synced, bens.id)).toEqual({ '🎉': [ana], '👍': [ana] })
  })

  it('writes only the own reactions', () => {
    const { server, device, bens } = setup()
    // Ben's reaction, present in the device's copy only, is not Ana's to write.
    toggleReaction(device, { messageId: bens.id, userId: ben, emoji: '🎉' })

    const synced = copyOf(server)
    expect(writeUnsentChangesAgain(synced, Y.encodeStateAsUpdate(device), ana)).toBe(0)
    expect(reactionsOf(synced, bens.id)).toEqual({ '👍': [ana] })
  })
})

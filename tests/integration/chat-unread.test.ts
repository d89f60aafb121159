import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Conversation, MAX_UNREAD_COUNT } from '../../shared/api.ts'
import { deleteMessage, sendMessage, setReadMarker } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import {
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

type Counts = { unreadCount: number; mentionCount: number }

describe.each(['pglite', 'postgres'] as const)('unread counts on %s', (kind) => {
  let server: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    server = await startTestServer({ database: kind })
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  const open = async (user: ApiUser, conversationId: ConversationId) => {
    const client = openDocument(server.url, user.token, conversationDocumentName(conversationId))
    clients.push(client)
    await waitForSync(client)
    return client
  }

  /** Returns the user's counts for one conversation, from the list endpoint. */
  const listedCounts = async (user: ApiUser, conversationId: string): Promise<Counts> => {
    const response = await user.request<{ conversations: Conversation[] }>(
      'GET',
      '/api/conversations',
    )
    const conversation = response.body.conversations.find((c) => c.id === conversationId)
    if (!conversation) throw new Error(`conversation ${conversationId} is not listed`)
    return { unreadCount: conversation.unreadCount, mentionCount: conversation.mentionCount }
  }

  /** Polls the list until the user's counts match. The error shows the last counts seen. */
  const expectCounts = async (user: ApiUser, conversationId: string, expected: Counts) => {
    let last: Counts | undefined
    await waitFor(
      async () => {
        last = await listedCounts(user, conversationId)
        return (
          last.unreadCount === expected.unreadCount && last.mentionCount === expected.mentionCount
        )
      },
      `counts ${JSON.stringify(expected)}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen ${JSON.stringify(last)}`)
    })
  }

  it('counts a message just before a join as read', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const cara = await createApiUser(server.url, 'cara')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'before Cara joins' })
    await waitForAcknowledged(anaClient)

    // The index of the acknowledged message may still be waiting for its write interval.
    const added = await ana.request('POST', `/api/conversations/${group.id}/members`, {
      userId: cara.user.id,
    })
    await expectCounts(ben, group.id, { unreadCount: 1, mentionCount: 0 })

    expect(added.status).toBe(201)
    expect(await listedCounts(cara, group.id)).toEqual({ unreadCount: 0, mentionCount: 0 })
  })

  it('counts messages of others and mentions', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const cara = await createApiUser(server.url, 'cara')
    const group = await createGroup(ana, [ben, cara])
    const anaClient = await open(ana, group.id)

    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'hello all' })
    sendMessage(anaClient.doc, {
      authorId: ana.user.id,
      text: 'hello @ben',
      mentions: [ben.user.id],
    })
    await waitForAcknowledged(anaClient)

    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 1 })
    expect(await listedCounts(cara, group.id)).toEqual({ unreadCount: 2, mentionCount: 0 })
    expect(await listedCounts(ana, group.id)).toEqual({ unreadCount: 0, mentionCount: 0 })
    const single = await ben.request<{ conversation: Conversation }>(
      'GET',
      `/api/conversations/${group.id}`,
    )
    expect(single.body.conversation.unreadCount).toBe(2)
    expect(single.body.conversation.mentionCount).toBe(1)
  })

  it('stops counting at the maximum', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    // Five mentions among the oldest messages, past the maximum, and three among the newest.
    const total = MAX_UNREAD_COUNT + 5
    anaClient.doc.transact(() => {
      for (let index = 0; index < total; index++) {
        const mentioned = index < 5 || index >= total - 3
        sendMessage(anaClient.doc, {
          authorId: ana.user.id,
          text: `message ${index}`,
          mentions: mentioned ? [ben.user.id] : [],
        })
      }
    })
    await waitForAcknowledged(anaClient)

    await expectCounts(ben, group.id, { unreadCount: MAX_UNREAD_COUNT, mentionCount: 3 })
  })

  it('follows the read marker', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    const first = sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'one' })
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'two @ben', mentions: [ben.user.id] })
    await waitForAcknowledged(anaClient)
    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 1 })

    const benClient = await open(ben, group.id)
    setReadMarker(benClient.doc, { userId: ben.user.id, messageId: first.id })
    await waitForAcknowledged(benClient)
    await expectCounts(ben, group.id, { unreadCount: 1, mentionCount: 1 })

    const last = sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'three' })
    await waitForAcknowledged(anaClient)
    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 1 })

    await waitFor(() => benClient.doc.getArray('messages').length === 3, 'Ben to get all three')
    setReadMarker(benClient.doc, { userId: ben.user.id, messageId: last.id })
    await waitForAcknowledged(benClient)
    await expectCounts(ben, group.id, { unreadCount: 0, mentionCount: 0 })
    expect(await listedCounts(ana, group.id)).toEqual({ unreadCount: 0, mentionCount: 0 })
  })

  it('never moves the read position back', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    const first = sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'one' })
    const second = sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'two' })
    await waitForAcknowledged(anaClient)
    // Both messages are indexed before the markers move: a marker processed before that
    // would leave nothing to count, and the test would pass whatever the position did.
    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 0 })
    const benClient = await open(ben, group.id)

    setReadMarker(benClient.doc, { userId: ben.user.id, messageId: second.id })
    await waitForAcknowledged(benClient)
    await expectCounts(ben, group.id, { unreadCount: 0, mentionCount: 0 })
    setReadMarker(benClient.doc, { userId: ben.user.id, messageId: first.id })
    await waitForAcknowledged(benClient)
    await new Promise((resolve) => setTimeout(resolve, 300))

    expect(await listedCounts(ben, group.id)).toEqual({ unreadCount: 0, mentionCount: 0 })
  })

  it('leaves out deleted and moderated messages', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const benClient = await open(ben, group.id)
    const deleted = sendMessage(benClient.doc, {
      authorId: ben.user.id,
      text: 'oops @ana',
      mentions: [ana.user.id],
    })
    const moderated = sendMessage(benClient.doc, { authorId: ben.user.id, text: 'rude' })
    sendMessage(benClient.doc, { authorId: ben.user.id, text: 'fine' })
    await waitForAcknowledged(benClient)
    await expectCounts(ana, group.id, { unreadCount: 3, mentionCount: 1 })

    deleteMessage(benClient.doc, { messageId: deleted.id, userId: ben.user.id })
    await waitForAcknowledged(benClient)
    await expectCounts(ana, group.id, { unreadCount: 2, mentionCount: 0 })
    const removal = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/messages/${moderated.id}`,
    )

    expect(removal.status).toBe(204)
    await expectCounts(ana, group.id, { unreadCount: 1, mentionCount: 0 })
  })

  it('counts nothing from before a member joined', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const dan = await createApiUser(server.url, 'dan')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'before Dan' })
    await waitForAcknowledged(anaClient)
    await expectCounts(ben, group.id, { unreadCount: 1, mentionCount: 0 })

    const added = await ana.request('POST', `/api/conversations/${group.id}/members`, {
      userId: dan.user.id,
    })
    expect(added.status).toBe(201)
    expect(await listedCounts(dan, group.id)).toEqual({ unreadCount: 0, mentionCount: 0 })
    sendMessage(anaClient.doc, {
      authorId: ana.user.id,
      text: 'welcome @dan',
      mentions: [dan.user.id],
    })
    await waitForAcknowledged(anaClient)

    await expectCounts(dan, group.id, { unreadCount: 1, mentionCount: 1 })
  })

  it('indexes a document written before the server tracked it', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'one' })
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'two' })
    await waitForAcknowledged(anaClient)
    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 0 })
    anaClient.destroy()

    // Emptying the index stands for a database upgraded from before it existed. Compacting
    // leaves no update rows, which the server's recovery at start would index.
    await server.server.services.db
      .deleteFrom('message_batches')
      .where('conversation_id', '=', group.id)
      .execute()
    const name = conversationDocumentName(group.id)
    await waitFor(
      () => !server.server.engine.hocuspocus.documents.has(name),
      'the server to unload the document',
    )
    await server.server.services.documents.compact(name)
    await server.restart()
    expect(await listedCounts(ben, group.id)).toEqual({ unreadCount: 0, mentionCount: 0 })
    await open(ana, group.id)

    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 0 })
  })

  it('counts each listed conversation', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const groups = await Promise.all([1, 2, 3, 4].map(() => createGroup(ana, [ben])))
    for (const group of groups) {
      const client = await open(ana, group.id)
      sendMessage(client.doc, { authorId: ana.user.id, text: `in ${group.id}` })
      await waitForAcknowledged(client)
    }
    for (const group of groups) {
      await expectCounts(ben, group.id, { unreadCount: 1, mentionCount: 0 })
    }

    const response = await ben.request<{ conversations: Conversation[] }>(
      'GET',
      '/api/conversations',
    )
    const listed = response.body.conversations.filter((c) => groups.some((g) => g.id === c.id))
    expect(listed.map((c) => c.unreadCount)).toEqual([1, 1, 1, 1])
  })

  it('deleting a conversation empties its index', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'gone soon' })
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'me too', mentions: [ben.user.id] })
    await waitForAcknowledged(anaClient)
    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 1 })

    const deletion = await ana.request('DELETE', `/api/conversations/${group.id}`)
    const indexed = await server.server.services.db
      .selectFrom('message_batches')
      .select('message_ids')
      .where('conversation_id', '=', group.id)
      .execute()

    expect(deletion.status).toBe(204)
    expect(indexed).toEqual([])
  })
})

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Conversation } from '../../shared/api.ts'
import { listMessages, sendMessage, setReadMarker } from '../../shared/chat-document.ts'
import { conversationDocumentName, userDocumentName } from '../../shared/document-names.ts'
import type { ConversationsChangedMessage } from '../../sync-server/sync/list-notifier.ts'
import { REDIS_URL } from '../helpers/databases.ts'
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

/** Time in ms, longer than the server's 500 ms notification delay, after which a due notification has arrived. */
const NOTIFY_SETTLE_MS = 900
/** Maximum time, in ms, that a removed member or a deleted conversation keeps receiving updates. */
const ACCESS_END_MS = 5_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A user's private document with the stateless messages it received. */
interface UserChannel {
  client: SyncClient
  received: ConversationsChangedMessage[]
}

/** Opens clients on a server and destroys them after each test. */
function clientPool() {
  const clients: SyncClient[] = []
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy()
  })

  const open = async (server: TestServer, user: ApiUser, documentName: string) => {
    const client = openDocument(server.url, user.token, documentName)
    clients.push(client)
    await waitForSync(client)
    return client
  }
  const openConversation = (server: TestServer, user: ApiUser, conversation: Conversation) =>
    open(server, user, conversationDocumentName(conversation.id))
  const openUserChannel = async (server: TestServer, user: ApiUser): Promise<UserChannel> => {
    const client = openDocument(server.url, user.token, userDocumentName(user.user.id))
    clients.push(client)
    const received: ConversationsChangedMessage[] = []
    client.provider.on('stateless', ({ payload }: { payload: string }) => {
      received.push(JSON.parse(payload) as ConversationsChangedMessage)
    })
    await waitForSync(client)
    return { client, received }
  }
  return { openConversation, openUserChannel }
}

const notificationsFor = (channel: UserChannel, conversation: Conversation) =>
  channel.received.filter((message) => message.conversationId === conversation.id)

const textsOf = (client: SyncClient) => listMessages(client.doc).map((message) => message.text)

describe('live chat on one instance', () => {
  let server: TestServer
  const { openConversation, openUserChannel } = clientPool()

  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  it('tells members with the conversation closed of a new message', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const benChannel = await openUserChannel(server, ben)
    await sleep(NOTIFY_SETTLE_MS)
    benChannel.received.length = 0

    const anaClient = await openConversation(server, ana, group)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'ping' })
    await waitForAcknowledged(anaClient)
    await waitFor(
      () => notificationsFor(benChannel, group).length > 0,
      'conversations_changed to reach Ben',
    )
    await sleep(NOTIFY_SETTLE_MS)

    expect(benChannel.received).toEqual([
      { type: 'conversations_changed', conversationId: group.id },
    ])
    const list = await ben.request<{ conversations: Conversation[] }>('GET', '/api/conversations')
    expect(list.body.conversations.find((c) => c.id === group.id)?.unreadCount).toBe(1)
  })

  it('tells only the reader of a read marker', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const cara = await createApiUser(server.url, 'cara')
    const group = await createGroup(ana, [ben, cara])
    const anaClient = await openConversation(server, ana, group)
    const message = sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'read me' })
    await waitForAcknowledged(anaClient)
    const benClient = await openConversation(server, ben, group)
    const benChannel = await openUserChannel(server, ben)
    const caraChannel = await openUserChannel(server, cara)
    await sleep(NOTIFY_SETTLE_MS)
    benChannel.received.length = 0
    caraChannel.received.length = 0

    setReadMarker(benClient.doc, { userId: ben.user.id, messageId: message.id })
    await waitForAcknowledged(benClient)
    await waitFor(
      () => notificationsFor(benChannel, group).length > 0,
      'conversations_changed to reach Ben',
    )
    await sleep(NOTIFY_SETTLE_MS)

    expect(notificationsFor(benChannel, group)).toHaveLength(1)
    expect(caraChannel.received).toEqual([])
  })

  it('tells an added member of the new conversation', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const dan = await createApiUser(server.url, 'dan')
    const group = await createGroup(ana, [])
    const danChannel = await openUserChannel(server, dan)

    const added = await ana.request('POST', `/api/conversations/${group.id}/members`, {
      userId: dan.user.id,
    })

    expect(added.status).toBe(201)
    await waitFor(
      () => notificationsFor(danChannel, group).length > 0,
      'conversations_changed to reach Dan',
    )
  })

  it('stops updates to a removed member within 5 s', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaClient = await openConversation(server, ana, group)
    const benClient = await openConversation(server, ben, group)
    const benChannel = await openUserChannel(server, ben)

    const started = Date.now()
    const removal = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/members/${ben.user.id}`,
    )
    await waitFor(() => benClient.closes.length > 0, 'Ben to be closed', ACCESS_END_MS)
    const closedAfterMs = Date.now() - started
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'after Ben left' })
    await waitForAcknowledged(anaClient)
    await sleep(300)

    expect(removal.status).toBe(204)
    expect(closedAfterMs).toBeLessThan(ACCESS_END_MS)
    expect(benClient.closes).toEqual(['forbidden'])
    expect(textsOf(benClient)).not.toContain('after Ben left')
    await waitFor(
      () => notificationsFor(benChannel, group).length > 0,
      'conversations_changed to reach Ben',
    )
  })

  it('stops updates of a deleted conversation within 5 s', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaClient = await openConversation(server, ana, group)
    const benClient = await openConversation(server, ben, group)
    const benChannel = await openUserChannel(server, ben)

    const started = Date.now()
    const deletion = await ana.request('DELETE', `/api/conversations/${group.id}`)
    await waitFor(
      () => benClient.closes.length > 0 && anaClient.closes.length > 0,
      'both members to be closed',
      ACCESS_END_MS,
    )
    const closedAfterMs = Date.now() - started
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'after deletion' })
    await sleep(300)

    expect(deletion.status).toBe(204)
    expect(closedAfterMs).toBeLessThan(ACCESS_END_MS)
    expect(benClient.closes).toEqual(['conversation_deleted'])
    expect(textsOf(benClient)).not.toContain('after deletion')
    await waitFor(
      () => notificationsFor(benChannel, group).length > 0,
      'conversations_changed to reach Ben',
    )
  })
})

describe('live chat across two instances', () => {
  let first: TestServer
  let second: TestServer
  const { openConversation, openUserChannel } = clientPool()

  beforeAll(async () => {
    first = await startTestServer({ database: 'postgres', redisUrl: REDIS_URL })
    second = await startTestServer({ database: first.database, redisUrl: REDIS_URL })
  })
  afterAll(async () => {
    await second.stop()
    await first.stop()
    await first.database.drop()
  })

  it('tells a member on the other instance once', async () => {
    const ana = await createApiUser(first.url, 'ana')
    const ben = await createApiUser(first.url, 'ben')
    const group = await createGroup(ana, [ben])
    const benChannel = await openUserChannel(second, ben)
    await sleep(NOTIFY_SETTLE_MS)
    benChannel.received.length = 0

    const anaClient = await openConversation(first, ana, group)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'across' })
    await waitForAcknowledged(anaClient)
    await waitFor(
      () => notificationsFor(benChannel, group).length > 0,
      'conversations_changed to reach Ben on the second instance',
    )
    await sleep(NOTIFY_SETTLE_MS)

    expect(notificationsFor(benChannel, group)).toHaveLength(1)
  })

  it('counts a message indexed by both instances once', async () => {
    const ana = await createApiUser(first.url, 'ana')
    const ben = await createApiUser(first.url, 'ben')
    const cara = await createApiUser(first.url, 'cara')
    const group = await createGroup(ana, [ben, cara])
    const anaClient = await openConversation(first, ana, group)
    const benClient = await openConversation(second, ben, group)

    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'seen by both instances' })
    await waitForAcknowledged(anaClient)
    await waitFor(() => textsOf(benClient).length === 1, 'Ben to receive the message')
    await sleep(NOTIFY_SETTLE_MS)

    const list = await cara.request<{ conversations: Conversation[] }>('GET', '/api/conversations')
    expect(list.body.conversations.find((c) => c.id === group.id)?.unreadCount).toBe(1)
  })
})

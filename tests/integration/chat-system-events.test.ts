import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  listMessages,
  listSystemEvents,
  MODERATION_ROOT,
  sendMessage,
  type SystemEvent,
} from '../../shared/chat-document.ts'
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

describe('system events and moderation', () => {
  let server: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    server = await startTestServer()
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

  /** Waits until the client has `count` system events and returns them. */
  const eventsOf = async (client: SyncClient, count: number): Promise<SystemEvent[]> => {
    await waitFor(
      () => listSystemEvents(client.doc).length >= count,
      `${count} system events to arrive`,
    )
    return listSystemEvents(client.doc)
  }

  it('records group creation with its title', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const before = Date.now()
    const group = await createGroup(ana, [ben], 'Launch')

    const [created] = await eventsOf(await open(ben, group.id), 1)

    expect(created?.type).toBe('created')
    expect(created?.actorId).toBe(ana.user.id)
    expect(created?.title).toBe('Launch')
    expect(created?.afterMessageId).toBeNull()
    expect(created?.at).toBeGreaterThanOrEqual(before)
    expect(created?.at).toBeLessThanOrEqual(Date.now())
    expect(created?.id).toMatch(/^[a-z0-9-]{8,64}$/)
  })

  it('records each member and title change in order', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const cara = await createApiUser(server.url, 'cara')
    const group = await createGroup(ana, [ben])
    const base = `/api/conversations/${group.id}`
    const anaClient = await open(ana, group.id)
    const message = sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'first' })
    await waitForAcknowledged(anaClient)

    expect((await ana.request('POST', `${base}/members`, { userId: cara.user.id })).status).toBe(
      201,
    )
    expect((await ana.request('PATCH', base, { title: 'Renamed' })).status).toBe(200)
    const promote = await ana.request('PATCH', `${base}/members/${cara.user.id}`, {
      role: 'admin',
    })
    expect(promote.status).toBe(200)
    expect((await ben.request('DELETE', `${base}/members/${ben.user.id}`)).status).toBe(204)
    expect((await ana.request('DELETE', `${base}/members/${cara.user.id}`)).status).toBe(204)

    const events = await eventsOf(anaClient, 6)
    const summary = events.map(({ type, actorId, targetId, title, role }) => ({
      type,
      actorId,
      targetId,
      title,
      role,
    }))
    expect(summary).toEqual([
      { type: 'created', actorId: ana.user.id, title: 'Test group' },
      { type: 'member_added', actorId: ana.user.id, targetId: cara.user.id },
      { type: 'renamed', actorId: ana.user.id, title: 'Renamed' },
      { type: 'role_changed', actorId: ana.user.id, targetId: cara.user.id, role: 'admin' },
      { type: 'member_left', actorId: ben.user.id },
      { type: 'member_removed', actorId: ana.user.id, targetId: cara.user.id },
    ])
    expect(events.slice(1).map((event) => event.afterMessageId)).toEqual(Array(5).fill(message.id))
  })

  it('writes no event for repeated no-op changes', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const base = `/api/conversations/${group.id}`

    expect((await ana.request('POST', `${base}/members`, { userId: ben.user.id })).status).toBe(200)
    const sameRole = await ana.request('PATCH', `${base}/members/${ben.user.id}`, {
      role: 'member',
    })
    expect(sameRole.status).toBe(200)
    const client = await open(ana, group.id)
    await new Promise((resolve) => setTimeout(resolve, 300))

    expect(listSystemEvents(client.doc).map((event) => event.type)).toEqual(['created'])
  })

  it('records the promotion when the last admin leaves', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])

    const leave = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/members/${ana.user.id}`,
    )
    const events = await eventsOf(await open(ben, group.id), 3)

    expect(leave.status).toBe(204)
    expect(
      events.map(({ type, actorId, targetId, role }) => ({ type, actorId, targetId, role })),
    ).toEqual([
      { type: 'created', actorId: ana.user.id, targetId: undefined, role: undefined },
      { type: 'member_left', actorId: ana.user.id, targetId: undefined, role: undefined },
      { type: 'role_changed', actorId: ana.user.id, targetId: ben.user.id, role: 'admin' },
    ])
  })

  it('moderation clears the text and records the admin', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const benClient = await open(ben, group.id)
    const message = sendMessage(benClient.doc, {
      authorId: ben.user.id,
      text: 'remove me @ana',
      mentions: [ana.user.id],
    })
    await waitForAcknowledged(benClient)
    const before = Date.now()

    const response = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/messages/${message.id}`,
    )
    await waitFor(
      () => benClient.doc.getMap(MODERATION_ROOT).has(message.id),
      'the moderation record to reach Ben',
    )

    expect(response.status).toBe(204)
    const [moderated] = listMessages(benClient.doc)
    expect(moderated?.text).toBe('')
    expect(moderated?.mentions).toEqual([])
    expect(moderated?.moderated?.by).toBe(ana.user.id)
    expect(moderated?.moderated?.at).toBeGreaterThanOrEqual(before)
    const entry = benClient.doc.getArray('messages').get(0) as { get(key: string): unknown }
    expect(entry.get('text')).toBe('')
    expect(entry.get('mentions')).toBeUndefined()
    // Opening the document afresh shows the stored state, not only the relayed update.
    const fresh = await open(ana, group.id)
    expect(listMessages(fresh.doc)[0]?.moderated?.by).toBe(ana.user.id)
  })

  it('moderation is for admins of groups', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const eve = await createApiUser(server.url, 'eve')
    const group = await createGroup(ana, [ben])
    const anaClient = await open(ana, group.id)
    const message = sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'keep me' })
    await waitForAcknowledged(anaClient)
    const path = `/api/conversations/${group.id}/messages/${message.id}`
    const direct = await ana.request<{ conversation: { id: string } }>(
      'POST',
      '/api/conversations',
      { kind: 'direct', memberIds: [ben.user.id] },
    )

    const byMember = await ben.request<{ error: { code: string } }>('DELETE', path)
    const byStranger = await eve.request<{ error: { code: string } }>('DELETE', path)
    const unknown = await ana.request<{ error: { code: string } }>(
      'DELETE',
      `/api/conversations/${group.id}/messages/nosuchmessage`,
    )
    const malformed = await ana.request<{ error: { code: string } }>(
      'DELETE',
      `/api/conversations/${group.id}/messages/NOT%20AN%20ID`,
    )
    const inDirect = await ana.request<{ error: { code: string } }>(
      'DELETE',
      `/api/conversations/${direct.body.conversation.id}/messages/${message.id}`,
    )

    expect(byMember.status).toBe(403)
    expect(byMember.body.error.code).toBe('forbidden')
    expect(byStranger.status).toBe(404)
    expect(byStranger.body.error.code).toBe('not_found')
    expect(unknown.status).toBe(404)
    expect(malformed.status).toBe(404)
    expect(inDirect.status).toBe(403)
    expect(inDirect.body.error.code).toBe('forbidden')
    expect(listMessages(anaClient.doc)[0]?.text).toBe('keep me')
  })
})

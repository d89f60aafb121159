import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Conversation, MessageLocation } from '../../shared/api.ts'
import {
  type ChatMessage,
  deleteMessage,
  editMessage,
  findMessageEntry,
  listMessages,
  listReactions,
  listSystemEvents,
  MODERATION_ROOT,
  messagesOf,
  openSegment,
  REACTIONS_ROOT,
  reactionKey,
  sendMessage,
  setReadMarker,
  toggleReaction,
} from '../../shared/chat-document.ts'
import { conversationDocumentName, segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId, UserId } from '../../shared/ids.ts'
import { unpackUpdate } from '../../sync-server/persistence/update-codec.ts'
import { changeOf } from '../helpers/forged-updates.ts'
import { captureConsoleErrors, refusalLogPattern } from '../helpers/console-errors.ts'
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
import { REDIS_URL } from '../helpers/databases.ts'
import { RawSyncClient, SyncStep } from '../helpers/raw-sync.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** Messages per history segment on the servers of this file, so that a few fill one. */
const SEGMENT_MESSAGES = 3

type Counts = { unreadCount: number; mentionCount: number }

/**
 * One user's clients of a conversation on one server: the live document and every segment
 * opened so far. It sends as the app does, into the segment that the live document names.
 */
class Device {
  readonly clients = new Map<number, SyncClient>()

  constructor(
    readonly server: TestServer,
    readonly user: ApiUser,
    readonly conversationId: ConversationId,
  ) {}

  get live(): SyncClient {
    const live = this.clients.get(0)
    if (!live) throw new Error('the live document is not open')
    return live
  }

  /** Opens a segment's document (0 is the live document) once and waits for its sync. */
  async open(segment: number): Promise<SyncClient> {
    const opened = this.clients.get(segment)
    if (opened) return opened
    const name = segmentDocumentName(this.conversationId, segment)
    const client = openDocument(this.server.url, this.user.token, name)
    this.clients.set(segment, client)
    await waitForSync(client)
    return client
  }

  /** Closes a segment's client, so that the server may unload the document. */
  close(segment: number): void {
    this.clients.get(segment)?.destroy()
    this.clients.delete(segment)
  }

  /**
   * Sends a message into the open segment and waits for its acknowledgement. When it fills
   * the segment, waits until the live document announces the next one, as the server closes
   * a full segment right after accepting the update that filled it.
   */
  async send(text: string, mentions: UserId[] = []): Promise<ChatMessage> {
    await this.open(0)
    const open = openSegment(this.live.doc)
    const client = await this.open(open)
    const message = sendMessage(client.doc, { authorId: this.user.user.id, text, mentions })
    await waitForAcknowledged(client)
    if (messagesOf(client.doc).length >= SEGMENT_MESSAGES) await this.waitForOpen(open + 1)
    return message
  }

  /** Waits until the live document announces a segment as open. */
  async waitForOpen(segment: number): Promise<void> {
    await this.open(0)
    await waitFor(
      () => openSegment(this.live.doc) === segment,
      `segment ${segment} to open; the live document names ${openSegment(this.live.doc)}`,
    )
  }

  /** Returns the client of the segment that contains a message, among those opened. */
  holding(messageId: string): SyncClient {
    for (const client of this.clients.values()) {
      if (listMessages(client.doc).some((message) => message.id === messageId)) return client
    }
    throw new Error(`no open segment contains message ${messageId}`)
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy()
    this.clients.clear()
  }
}

/** Returns a document as a server stores it, read from its database. */
async function storedDoc(server: TestServer, name: string): Promise<Y.Doc> {
  const doc = new Y.Doc()
  const stored = await server.server.services.documents.load(name)
  if (stored) Y.applyUpdate(doc, stored)
  return doc
}

/**
 * Returns every stored row that could contain a conversation's text: the update rows and
 * snapshots of its documents, and its conversations row with the preview, as raw bytes.
 * Compressed update rows are unpacked, since their text would not show in the raw bytes.
 */
async function storedRows(server: TestServer, conversationId: ConversationId): Promise<Buffer[]> {
  const { db } = server.server.services
  const prefix = `${conversationDocumentName(conversationId)}%`
  const updates = await db
    .selectFrom('document_updates')
    .select(['data', 'codec'])
    .where('name', 'like', prefix)
    .execute()
  const snapshots = await db
    .selectFrom('documents')
    .select('snapshot')
    .where('name', 'like', prefix)
    .execute()
  const conversation = await sql<{ row: string }>`
    select c::text as row from conversations c where c.id = ${conversationId}
  `.execute(db)
  return [
    ...updates.map((row) => Buffer.from(unpackUpdate(row.data, row.codec))),
    ...snapshots.flatMap((row) => (row.snapshot ? [Buffer.from(row.snapshot)] : [])),
    ...conversation.rows.map((row) => Buffer.from(row.row)),
  ]
}

/** Returns the stored messages of each segment from the live document to segment `last`. */
async function storedSegments(
  server: TestServer,
  conversationId: ConversationId,
  last: number,
): Promise<ChatMessage[][]> {
  const segments: ChatMessage[][] = []
  for (let segment = 0; segment <= last; segment++) {
    const name = segmentDocumentName(conversationId, segment)
    segments.push(listMessages(await storedDoc(server, name)))
  }
  return segments
}

const textsOf = (messages: ChatMessage[]) => messages.map((message) => message.text)

/** Returns the open segment stored in the database. */
async function storedOpenSegment(server: TestServer, conversationId: string): Promise<number> {
  const row = await server.server.services.db
    .selectFrom('conversations')
    .select('open_segment')
    .where('id', '=', conversationId)
    .executeTakeFirstOrThrow()
  return row.open_segment
}

describe('history segments', () => {
  let server: TestServer
  const devices: Device[] = []

  beforeAll(async () => {
    server = await startTestServer({
      database: 'postgres',
      config: { segmentMessages: SEGMENT_MESSAGES },
    })
  })
  afterEach(() => {
    for (const device of devices.splice(0)) device.destroy()
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  const device = (user: ApiUser, conversationId: ConversationId) => {
    const created = new Device(server, user, conversationId)
    devices.push(created)
    return created
  }

  /** Creates a group of Ana (admin) and Ben, with a device for each. */
  const groupOfTwo = async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    return { ana, ben, group, anaDevice: device(ana, group.id), benDevice: device(ben, group.id) }
  }

  const listed = async (user: ApiUser, conversationId: string): Promise<Conversation> => {
    const response = await user.request<{ conversations: Conversation[] }>(
      'GET',
      '/api/conversations',
    )
    const conversation = response.body.conversations.find((c) => c.id === conversationId)
    if (!conversation) throw new Error(`conversation ${conversationId} is not listed`)
    return conversation
  }

  /** Polls the list until the user's counts match. The error shows the last counts seen. */
  const expectCounts = async (user: ApiUser, conversationId: string, expected: Counts) => {
    let last: Counts | undefined
    await waitFor(
      async () => {
        const { unreadCount, mentionCount } = await listed(user, conversationId)
        last = { unreadCount, mentionCount }
        return unreadCount === expected.unreadCount && mentionCount === expected.mentionCount
      },
      `counts ${JSON.stringify(expected)}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen ${JSON.stringify(last)}`)
    })
  }

  /** Polls the list until the conversation's preview shows a text. */
  const expectPreview = async (user: ApiUser, conversationId: string, text: string) => {
    let last: string | undefined
    await waitFor(async () => {
      last = (await listed(user, conversationId)).lastMessage?.text
      return last === text
    }, `the preview "${text}"`).catch((error: Error) => {
      throw new Error(`${error.message}; last seen "${last}"`)
    })
  }

  it('rotation keeps messages in order', async () => {
    const { ben, group, anaDevice, benDevice } = await groupOfTwo()
    const texts = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight']

    for (const text of texts) await anaDevice.send(text)

    expect(openSegment(anaDevice.live.doc)).toBe(2)
    expect(await storedOpenSegment(server, group.id)).toBe(2)
    expect((await listed(ben, group.id)).openSegment).toBe(2)
    const stored = await storedSegments(server, group.id, 2)
    expect(stored.map(textsOf)).toEqual([
      ['one', 'two', 'three'],
      ['four', 'five', 'six'],
      ['seven', 'eight'],
    ])
    await benDevice.open(0)
    const read: string[] = []
    for (let segment = 0; segment <= openSegment(benDevice.live.doc); segment++) {
      read.push(...textsOf(listMessages((await benDevice.open(segment)).doc)))
    }
    expect(read).toEqual(texts)
    await expectCounts(ben, group.id, { unreadCount: texts.length, mentionCount: 0 })
  })

  it('closed segment stores edits and reactions', async () => {
    const { ben, group, anaDevice, benDevice } = await groupOfTwo()
    const first = await anaDevice.send('first')
    const second = await anaDevice.send('second')
    const third = await anaDevice.send('third')
    await anaDevice.send('in segment 1')
    const live = anaDevice.live
    const benLive = await benDevice.open(0)
    await waitFor(() => listMessages(benLive.doc).length === 3, 'Ben to get segment 0')

    editMessage(live.doc, { messageId: first.id, userId: anaDevice.user.user.id, text: 'edited' })
    deleteMessage(live.doc, { messageId: third.id, userId: anaDevice.user.user.id })
    toggleReaction(benLive.doc, { messageId: second.id, userId: ben.user.id, emoji: '👍' })
    await waitForAcknowledged(live)
    await waitForAcknowledged(benLive)

    expect(live.closes).toEqual([])
    expect(benLive.closes).toEqual([])
    const stored = await storedDoc(server, conversationDocumentName(group.id))
    const messages = listMessages(stored)
    expect(messages.map((message) => message.text)).toEqual(['edited', 'second', ''])
    expect(messages[0]?.editedAt).toBeTypeOf('number')
    expect(messages[2]?.deleted).toBe(true)
    expect(stored.getMap(REACTIONS_ROOT).get(reactionKey(second.id, ben.user.id, '👍'))).toBe(true)
    expect(await storedOpenSegment(server, group.id)).toBe(1)
  })

  it('offline message: rejected, then stored once', async () => {
    const { ben, group, anaDevice } = await groupOfTwo()
    await anaDevice.send('before')
    await anaDevice.send('while Ben is offline')
    const liveName = conversationDocumentName(group.id)
    // Ben's device syncs the live document, which is the open segment, and goes offline.
    const offlineDoc = new Y.Doc()
    const before = await RawSyncClient.open(server.url, liveName, ben.token, offlineDoc)
    await before.pull()
    await before.closed()
    let offline: ChatMessage | undefined
    const offlineUpdate = changeOf(offlineDoc, (doc) => {
      offline = sendMessage(doc, { authorId: ben.user.id, text: 'written offline' })
    })
    await anaDevice.send('fills the segment')
    const consoleErrors = captureConsoleErrors()

    const reconnected = await RawSyncClient.open(server.url, liveName, ben.token, offlineDoc)
    await reconnected.pull()
    const refused = await reconnected.sendUpdate(
      Y.encodeStateAsUpdate(offlineDoc, reconnected.serverStateVector),
      SyncStep.Step2,
    )
    consoleErrors.restore()

    expect(Y.decodeUpdate(offlineUpdate).structs.length).toBeGreaterThan(0)
    expect(refused).toEqual({ kind: 'closed', reason: 'invalid_update' })
    const afterRefusal = await storedSegments(server, group.id, 1)
    expect(afterRefusal.map(textsOf)).toEqual([
      ['before', 'while Ben is offline', 'fills the segment'],
      [],
    ])
    const refusal = refusalLogPattern(['invalid_update'])
    expect(consoleErrors.lines.filter((line) => !refusal.test(line))).toEqual([])

    // As after any rejection, the device syncs the live document again, reads the open
    // segment there and writes the unsent message again, with the same id, into it.
    const fresh = await RawSyncClient.open(server.url, liveName, ben.token)
    await fresh.pull()
    const open = openSegment(fresh.doc)
    fresh.close()
    const segmentClient = await RawSyncClient.open(
      server.url,
      segmentDocumentName(group.id, open),
      ben.token,
    )
    await segmentClient.pull()
    const resent = changeOf(segmentClient.doc, (doc) => {
      const entry = new Y.Map<unknown>()
      for (const key of ['id', 'authorId', 'text', 'createdAt'] as const) {
        entry.set(key, offline![key])
      }
      messagesOf(doc).insert(messagesOf(doc).length, [entry])
    })
    const accepted = await segmentClient.sendUpdate(resent)
    segmentClient.close()

    expect(open).toBe(1)
    expect(accepted).toEqual({ kind: 'acknowledged', applied: true })
    const stored = (await storedSegments(server, group.id, 1)).flat()
    expect(stored.filter((message) => message.id === offline!.id)).toHaveLength(1)
    expect(textsOf(stored)).toEqual([
      'before',
      'while Ben is offline',
      'fills the segment',
      'written offline',
    ])
  })

  it('offline changes in a closed segment converge', async () => {
    const { ana, ben, group, anaDevice, benDevice } = await groupOfTwo()
    for (const text of ['one', 'two', 'three']) await anaDevice.send(text)
    const anas = await anaDevice.send('draft-text-5521')
    const bensKept = await benDevice.send('kept by Ben')
    const bensDeleted = await benDevice.send('secret-text-4471')
    await anaDevice.send('in the open segment')
    expect(await storedOpenSegment(server, group.id)).toBe(2)
    const name = segmentDocumentName(group.id, 1)
    // The list preview follows the newest message after a delay, and until then it may
    // contain the text of the message that Ben deletes below.
    const preview = async () => {
      const row = await server.server.services.db
        .selectFrom('conversations')
        .select('last_message_text')
        .where('id', '=', group.id)
        .executeTakeFirstOrThrow()
      return row.last_message_text
    }
    await expect.poll(preview).toBe('in the open segment')

    /** Syncs a copy of closed segment 1 into a document that then stays offline. */
    const offlineCopy = async (user: ApiUser): Promise<Y.Doc> => {
      const doc = new Y.Doc()
      const client = await RawSyncClient.open(server.url, name, user.token, doc)
      await client.pull()
      client.close()
      return doc
    }
    /** Syncs what an offline copy lacks, then sends what the server lacks of it. */
    const reconnect = async (user: ApiUser, doc: Y.Doc) => {
      const client = await RawSyncClient.open(server.url, name, user.token, doc)
      await client.pull()
      const outcome = await client.sendUpdate(
        Y.encodeStateAsUpdate(doc, client.serverStateVector),
        SyncStep.Step2,
      )
      client.close()
      return outcome
    }
    const anaCopy = await offlineCopy(ana)
    const benCopy = await offlineCopy(ben)
    editMessage(anaCopy, { messageId: anas.id, userId: ana.user.id, text: 'final-text-5522' })
    toggleReaction(anaCopy, { messageId: bensKept.id, userId: ana.user.id, emoji: '👍' })
    deleteMessage(benCopy, { messageId: bensDeleted.id, userId: ben.user.id })
    toggleReaction(benCopy, { messageId: anas.id, userId: ben.user.id, emoji: '🎉' })

    expect(await reconnect(ana, anaCopy)).toEqual({ kind: 'acknowledged', applied: true })
    expect(await reconnect(ben, benCopy)).toEqual({ kind: 'acknowledged', applied: true })
    // Ana's copy missed Ben's changes, which reach it on the next sync.
    const anaSynced = await RawSyncClient.open(server.url, name, ana.token, anaCopy)
    await anaSynced.pull()
    anaSynced.close()

    const stored = await storedDoc(server, name)
    const copies = [anaCopy, benCopy, stored]
    for (const copy of copies) {
      expect(listMessages(copy)).toEqual(listMessages(stored))
      expect(listReactions(copy)).toEqual(listReactions(stored))
    }
    expect(textsOf(listMessages(stored))).toEqual(['final-text-5522', 'kept by Ben', ''])
    expect(listMessages(stored)[2]?.deleted).toBe(true)
    expect(listReactions(stored)).toEqual(
      new Map([
        [anas.id, new Map([['🎉', [ben.user.id]]])],
        [bensKept.id, new Map([['👍', [ana.user.id]]])],
      ]),
    )

    // After compaction no row contains the deleted or the replaced text, which rows
    // contained before.
    const before = await storedRows(server, group.id)
    expect(before.some((row) => row.includes('secret-text-4471'))).toBe(true)
    expect(before.some((row) => row.includes('draft-text-5521'))).toBe(true)
    await server.server.services.documents.compact(name)
    const rows = await storedRows(server, group.id)
    expect(rows.some((row) => row.includes('final-text-5522'))).toBe(true)
    expect(rows.some((row) => row.includes('secret-text-4471'))).toBe(false)
    expect(rows.some((row) => row.includes('draft-text-5521'))).toBe(false)
  })

  it('locates a message in its segment', async () => {
    const { ana, ben, group, anaDevice } = await groupOfTwo()
    const sent: ChatMessage[] = []
    for (const text of ['one', 'two', 'three', 'four', 'five', 'six', 'seven']) {
      sent.push(await anaDevice.send(text))
    }
    const locate = (user: ApiUser, messageId: string) =>
      user.request<{ message?: MessageLocation; error?: { code: string } }>(
        'GET',
        `/api/conversations/${group.id}/messages/${messageId}`,
      )

    // The index follows the acknowledgement of the newest message by a moment.
    const locateAll = () => Promise.all(sent.map((message) => locate(ben, message.id)))
    await expect
      .poll(async () => (await locateAll()).map((response) => response.status))
      .toEqual(sent.map(() => 200))
    const located = await locateAll()
    expect(located.map((response) => response.body.message?.segment)).toEqual([0, 0, 0, 1, 1, 1, 2])
    expect(located[4]?.body.message?.id).toBe(sent[4]?.id)
    expect(located[4]?.body.message?.content).toMatchObject({
      id: sent[4]?.id,
      authorId: ana.user.id,
      text: 'five',
      deleted: false,
    })

    // The content is read from the segment's document, so it follows a deletion.
    const segment = await anaDevice.open(1)
    deleteMessage(segment.doc, { messageId: sent[3]!.id, userId: ana.user.id })
    await waitForAcknowledged(segment)
    const deleted = await locate(ben, sent[3]!.id)
    expect(deleted.body.message?.content).toMatchObject({ text: '', deleted: true })

    // A modified client may mark its message deleted and leave the text.
    const marked = findMessageEntry(segment.doc, sent[5]!.id)
    if (!marked) throw new Error('message six is not in segment 1')
    segment.doc.transact(() => marked.set('deleted', true))
    await waitForAcknowledged(segment)
    const markedOnly = await locate(ben, sent[5]!.id)
    expect(markedOnly.body.message?.content).toMatchObject({ text: '', deleted: true })

    const outsider = await createApiUser(server.url, 'eve')
    const cases = [
      await locate(outsider, sent[0]!.id),
      await locate(ana, 'nosuchmessage00000000'),
      await locate(ana, 'not%20an%20id'),
    ]
    expect(cases.map((response) => response.status)).toEqual([404, 404, 404])
    expect(cases.map((response) => response.body.error?.code)).toEqual([
      'not_found',
      'not_found',
      'not_found',
    ])
  })

  it('unread counts span segments', async () => {
    const { ben, group, anaDevice, benDevice } = await groupOfTwo()
    const sent: ChatMessage[] = []
    for (const text of ['m1', 'm2', 'm3', 'm4', 'm5']) sent.push(await anaDevice.send(text))
    await expectCounts(ben, group.id, { unreadCount: 5, mentionCount: 0 })
    const benLive = await benDevice.open(0)

    setReadMarker(benLive.doc, { userId: ben.user.id, messageId: sent[1]!.id })
    await waitForAcknowledged(benLive)
    await expectCounts(ben, group.id, { unreadCount: 3, mentionCount: 0 })
    setReadMarker(benLive.doc, { userId: ben.user.id, messageId: sent[3]!.id })
    await waitForAcknowledged(benLive)
    await expectCounts(ben, group.id, { unreadCount: 1, mentionCount: 0 })

    const mention = await anaDevice.send('@ben look', [ben.user.id])
    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 1 })
    const inSegment2 = await anaDevice.send('m7')
    await expectCounts(ben, group.id, { unreadCount: 3, mentionCount: 1 })
    deleteMessage(anaDevice.holding(sent[4]!.id).doc, {
      messageId: sent[4]!.id,
      userId: anaDevice.user.user.id,
    })
    await waitForAcknowledged(anaDevice.holding(sent[4]!.id))
    await expectCounts(ben, group.id, { unreadCount: 2, mentionCount: 1 })

    // No client has segment 1 open any more, so the server places the marker by the index.
    anaDevice.close(1)
    const segment1 = segmentDocumentName(group.id, 1)
    await waitFor(
      () => !server.server.engine.hocuspocus.documents.has(segment1),
      'the server to unload segment 1',
    )
    setReadMarker(benLive.doc, { userId: ben.user.id, messageId: mention.id })
    await waitForAcknowledged(benLive)
    await expectCounts(ben, group.id, { unreadCount: 1, mentionCount: 0 })
    setReadMarker(benLive.doc, { userId: ben.user.id, messageId: inSegment2.id })
    await waitForAcknowledged(benLive)
    await expectCounts(ben, group.id, { unreadCount: 0, mentionCount: 0 })
    expect((await listed(anaDevice.user, group.id)).unreadCount).toBe(0)
  })

  it('moderation writes into the message’s segment', async () => {
    const { ana, group, anaDevice, benDevice } = await groupOfTwo()
    const sent: ChatMessage[] = []
    for (const text of ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7']) {
      sent.push(await benDevice.send(text))
    }
    await expectCounts(ana, group.id, { unreadCount: 7, mentionCount: 0 })
    const [closed, open] = [sent[4]!, sent[6]!]
    const anaSegment1 = await anaDevice.open(1)

    const removals = [
      await ana.request('DELETE', `/api/conversations/${group.id}/messages/${closed.id}`),
      await ana.request('DELETE', `/api/conversations/${group.id}/messages/${open.id}`),
    ]
    await waitFor(
      () => anaSegment1.doc.getMap(MODERATION_ROOT).has(closed.id),
      'the moderation record to reach Ana',
    )

    expect(removals.map((removal) => removal.status)).toEqual([204, 204])
    const segment1 = await storedDoc(server, segmentDocumentName(group.id, 1))
    const segment2 = await storedDoc(server, segmentDocumentName(group.id, 2))
    const live = await storedDoc(server, conversationDocumentName(group.id))
    expect(segment1.getMap(MODERATION_ROOT).get(closed.id)).toMatchObject({ by: ana.user.id })
    expect(listMessages(segment1).find((message) => message.id === closed.id)?.text).toBe('')
    expect(segment2.getMap(MODERATION_ROOT).get(open.id)).toMatchObject({ by: ana.user.id })
    expect(live.getMap(MODERATION_ROOT).size).toBe(0)
    expect(segment1.getMap(MODERATION_ROOT).has(open.id)).toBe(false)
    await expectCounts(ana, group.id, { unreadCount: 5, mentionCount: 0 })
    const unknown = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/messages/nosuchmessage`,
    )
    expect(unknown.status).toBe(404)
  })

  it('system events follow the newest message', async () => {
    const { ana, group, anaDevice } = await groupOfTwo()
    const base = `/api/conversations/${group.id}`
    await anaDevice.send('a1')
    await anaDevice.send('a2')
    const lastOfLive = await anaDevice.send('a3')

    const emptyOpen = await ana.request('PATCH', base, { title: 'Segment 1 is empty' })
    const inSegment1 = await anaDevice.send('a4')
    const nonEmptyOpen = await ana.request('PATCH', base, { title: 'Segment 1 has a4' })
    await waitFor(
      () => listSystemEvents(anaDevice.live.doc).length === 3,
      'three system events to arrive',
    )

    expect([emptyOpen.status, nonEmptyOpen.status]).toEqual([200, 200])
    const events = listSystemEvents(anaDevice.live.doc)
    expect(events.map((event) => [event.type, event.afterMessageId])).toEqual([
      ['created', null],
      ['renamed', lastOfLive.id],
      ['renamed', inSegment1.id],
    ])
  })

  it('preview follows the open segment', async () => {
    const { ben, group, anaDevice } = await groupOfTwo()
    await anaDevice.send('p1')
    const second = await anaDevice.send('p2')
    const third = await anaDevice.send('p3')
    await expectPreview(ben, group.id, 'p3')

    // Segment 1 is open and empty, so the newest message is still p3 in the live document.
    editMessage(anaDevice.live.doc, {
      messageId: third.id,
      userId: anaDevice.user.user.id,
      text: 'p3, edited',
    })
    await waitForAcknowledged(anaDevice.live)
    await expectPreview(ben, group.id, 'p3, edited')
    await anaDevice.send('p4')
    await expectPreview(ben, group.id, 'p4')
    editMessage(anaDevice.live.doc, {
      messageId: second.id,
      userId: anaDevice.user.user.id,
      text: 'p2, edited',
    })
    await waitForAcknowledged(anaDevice.live)
    await new Promise((resolve) => setTimeout(resolve, 500))

    expect((await listed(ben, group.id)).lastMessage?.text).toBe('p4')
  })

  it('deletion removes and closes every segment', async () => {
    const { ana, group, anaDevice, benDevice } = await groupOfTwo()
    for (const text of ['d1', 'd2', 'd3', 'd4']) await anaDevice.send(text)
    const benSegment = await benDevice.open(1)
    const benLive = await benDevice.open(0)
    await waitFor(() => listMessages(benSegment.doc).length === 1, 'Ben to get segment 1')

    const deletion = await ana.request('DELETE', `/api/conversations/${group.id}`)
    await waitFor(
      () => benSegment.closes.length > 0 && benLive.closes.length > 0,
      "the server to close Ben's documents",
    )

    expect(deletion.status).toBe(204)
    expect(benSegment.closes).toEqual(['conversation_deleted'])
    expect(benLive.closes).toEqual(['conversation_deleted'])
    const { db } = server.server.services
    const rows = async (table: 'documents' | 'document_updates') =>
      db.selectFrom(table).select('name').where('name', 'like', `conv:${group.id}%`).execute()
    expect(await rows('documents')).toEqual([])
    expect(await rows('document_updates')).toEqual([])
    const indexed = await db
      .selectFrom('message_batches')
      .select('message_ids')
      .where('conversation_id', '=', group.id)
      .execute()
    expect(indexed).toEqual([])
  })
})

describe('history segments on two instances linked by Redis', () => {
  let first: TestServer
  let second: TestServer
  const devices: Device[] = []

  beforeAll(async () => {
    const config = { segmentMessages: SEGMENT_MESSAGES }
    first = await startTestServer({ database: 'postgres', redisUrl: REDIS_URL, config })
    second = await startTestServer({ database: first.database, redisUrl: REDIS_URL, config })
  })
  afterEach(() => {
    for (const device of devices.splice(0)) device.destroy()
  })
  afterAll(async () => {
    // The Redis extension delays each unload by a second, so documents are still loaded
    // after the clients left. One unloaded after the stop would find Redis disconnected and
    // log an error.
    await waitFor(
      () =>
        first.server.engine.hocuspocus.documents.size === 0 &&
        second.server.engine.hocuspocus.documents.size === 0,
      'both instances to unload every document',
    )
    await second.stop()
    await first.stop()
    await first.database.drop()
  })

  /**
   * Sends a message as a client does: into the open segment that its live document names,
   * and when the server rejected it because that segment closed meanwhile, again into the
   * segment that the live document names next.
   */
  const sendFollowingRotation = async (device: Device, text: string): Promise<number> => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const open = openSegment(device.live.doc)
      const name = segmentDocumentName(device.conversationId, open)
      const raw = await RawSyncClient.open(device.server.url, name, device.user.token)
      await raw.pull()
      const outcome = await raw.sendUpdate(
        changeOf(raw.doc, (doc) => sendMessage(doc, { authorId: device.user.user.id, text })),
      )
      raw.close()
      if (outcome.kind === 'acknowledged') return attempt
      expect(outcome).toEqual({ kind: 'closed', reason: 'invalid_update' })
      await waitFor(() => openSegment(device.live.doc) > open, `the segment after ${open}`)
    }
    throw new Error(`"${text}" was rejected ten times`)
  }

  it('closes each segment once, losing nothing', async () => {
    const ana = await createApiUser(first.url, 'ana')
    const ben = await createApiUser(first.url, 'ben')
    const group = await createGroup(ana, [ben])
    const anaDevice = new Device(first, ana, group.id)
    const benDevice = new Device(second, ben, group.id)
    devices.push(anaDevice, benDevice)
    await anaDevice.open(0)
    await benDevice.open(0)
    const perUser = 9
    const consoleErrors = captureConsoleErrors()

    await Promise.all(
      [anaDevice, benDevice].map(async (device) => {
        for (let index = 0; index < perUser; index++) {
          await sendFollowingRotation(device, `${device.user.user.username} ${index}`)
        }
      }),
    )
    consoleErrors.restore()

    // The segment that the last message filled closes after that message was acknowledged.
    const openLength = async () => {
      const open = await storedOpenSegment(first, group.id)
      const doc = await storedDoc(first, segmentDocumentName(group.id, open))
      return listMessages(doc).length
    }
    await expect.poll(openLength).toBeLessThan(SEGMENT_MESSAGES)
    const open = await storedOpenSegment(first, group.id)
    await anaDevice.waitForOpen(open)
    await benDevice.waitForOpen(open)
    const segments = await storedSegments(first, group.id, open)
    const texts = segments.flat().map((message) => message.text)
    expect(texts).toHaveLength(2 * perUser)
    expect(new Set(texts).size).toBe(2 * perUser)
    // A segment closed without filling would show that two instances both opened one.
    for (const closed of segments.slice(0, -1)) {
      expect(closed.length).toBeGreaterThanOrEqual(SEGMENT_MESSAGES)
    }
    expect(segments.at(-1)!.length).toBeLessThan(SEGMENT_MESSAGES)
    expect(open).toBeGreaterThanOrEqual(Math.floor((2 * perUser) / (SEGMENT_MESSAGES + 1)))
    for (const device of [anaDevice, benDevice]) {
      const own = texts.filter((text) => text.startsWith(device.user.user.username))
      expect(own).toEqual(
        Array.from({ length: perUser }, (_, index) => `${device.user.user.username} ${index}`),
      )
    }
    const refusal = refusalLogPattern(['invalid_update'])
    const unexpected = consoleErrors.lines.filter((line) => !refusal.test(line))
    expect(unexpected).toEqual([])
  })
})

describe.each(['pglite', 'postgres'] as const)('history segments over a restart on %s', (kind) => {
  let server: TestServer
  const devices: Device[] = []

  beforeAll(async () => {
    server = await startTestServer({
      database: kind,
      config: { segmentMessages: SEGMENT_MESSAGES },
    })
  })
  afterAll(async () => {
    for (const device of devices) device.destroy()
    await server.stop()
    await server.database.drop()
  })

  it('keeps segments and rotation', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const before = new Device(server, ana, group.id)
    devices.push(before)
    const first = await before.send('r1')
    for (const text of ['r2', 'r3', 'r4', 'r5']) await before.send(text)
    editMessage(before.live.doc, { messageId: first.id, userId: ana.user.id, text: 'r1, edited' })
    await waitForAcknowledged(before.live)
    before.destroy()

    await server.restart()
    const after = new Device(server, ana, group.id)
    devices.push(after)
    await after.open(0)
    const reopened = await storedSegments(server, group.id, 1)
    await after.send('r6')

    expect(openSegment(after.live.doc)).toBe(2)
    expect(reopened.map(textsOf)).toEqual([
      ['r1, edited', 'r2', 'r3'],
      ['r4', 'r5'],
    ])
    expect(textsOf(listMessages((await after.open(1)).doc))).toEqual(['r4', 'r5', 'r6'])
    expect(await storedOpenSegment(server, group.id)).toBe(2)
    const benLive = openDocument(server.url, ben.token, conversationDocumentName(group.id))
    await waitForSync(benLive)
    expect(openSegment(benLive.doc)).toBe(2)
    benLive.destroy()
  })
})

import { type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { newId, type UserId } from '../../shared/ids.ts'
import { createLogger } from '../../sync-server/observability/logger.ts'
import { ConversationStore } from '../../sync-server/persistence/conversations.ts'
import { openDatabase, type OpenDatabase } from '../../sync-server/persistence/database.ts'
import { type IndexedMessage, MessageIndex } from '../../sync-server/persistence/message-index.ts'
import { migrateToLatest } from '../../sync-server/persistence/migrations.ts'
import { UnreadTracker } from '../../sync-server/sync/unread-tracker.ts'
import { createDatabase, type TestDatabase } from '../helpers/databases.ts'

/** Returns an indexed message by the given author with a fresh id. */
function message(authorId: UserId, mentions: string[] = []): IndexedMessage {
  return { messageId: newId(), authorId, mentions, deleted: false }
}

describe.each(['pglite', 'postgres'] as const)('MessageIndex on %s', (kind) => {
  let database: TestDatabase
  let opened: OpenDatabase
  let index: MessageIndex
  let conversations: ConversationStore

  beforeAll(async () => {
    database = await createDatabase(kind)
    opened = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir })
    index = new MessageIndex(opened.db)
    conversations = new ConversationStore(opened.db)
  })
  afterAll(async () => {
    await opened.close()
    await database.drop()
  })

  /** Creates two users and a group of both, and returns their ids. */
  const groupOfTwo = async () => {
    const [ana, ben] = [newId() as UserId, newId() as UserId]
    await opened.db
      .insertInto('users')
      .values(
        [ana, ben].map((id) => ({
          id,
          username: id,
          username_key: id,
          display_name: id,
          password_hash: 'unused',
        })),
      )
      .execute()
    const group = await conversations.createGroup(ana, 'index test', [ben])
    return { ana, ben, conversationId: group.id }
  }

  /** Returns the message ids of a conversation in the order they were indexed. */
  const indexedIds = async (conversationId: string) => {
    const rows = await opened.db
      .selectFrom('message_batches')
      .select('message_ids')
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute()
    return rows.flatMap((row) => row.message_ids)
  }

  it('inserts new messages in the given order', async () => {
    const { ana, conversationId } = await groupOfTwo()
    const first = [message(ana), message(ana)]
    const second = Array.from({ length: 12 }, () => message(ana))

    expect(await index.upsert(conversationId, 0, first)).toBe(2)
    // Already indexed messages mixed in keep their place and are not counted.
    expect(await index.upsert(conversationId, 0, [...second, ...first])).toBe(12)

    expect(await indexedIds(conversationId)).toEqual(
      [...first, ...second].map((entry) => entry.messageId),
    )
  })

  it('changes nothing on a repeat', async () => {
    const { ana, conversationId } = await groupOfTwo()
    const messages = [message(ana), message(ana, [ana])]
    await index.upsert(conversationId, 0, messages)

    expect(await index.upsert(conversationId, 0, messages)).toBe(0)
    expect(await index.count(conversationId, 0)).toBe(2)
  })

  it('updates mentions and the deleted flag', async () => {
    const { ana, ben, conversationId } = await groupOfTwo()
    const plain = message(ana)
    const mentioning = message(ana, [ben])
    const removed = message(ana)
    await index.upsert(conversationId, 0, [plain, mentioning, removed])

    const changed = await index.upsert(conversationId, 0, [
      { ...plain, mentions: [ben] },
      { ...mentioning, mentions: [] },
      { ...removed, deleted: true },
    ])
    const counts = await index.countUnread(ben, [conversationId])

    expect(changed).toBe(3)
    expect(counts.get(conversationId)).toEqual({ unreadCount: 2, mentionCount: 1 })
    expect(await index.count(conversationId, 0)).toBe(3)
    expect(await index.count(conversationId, 1)).toBe(0)
  })

  it('counts the messages of each segment', async () => {
    const { ana, conversationId } = await groupOfTwo()
    const first = [message(ana), message(ana), message(ana)]
    await index.upsert(conversationId, 0, first)
    await index.upsert(conversationId, 2, [message(ana)])
    await index.upsert(conversationId, 0, [first[0] as IndexedMessage])

    expect(await index.count(conversationId, 0)).toBe(3)
    expect(await index.count(conversationId, 1)).toBe(0)
    expect(await index.count(conversationId, 2)).toBe(1)
  })

  it('reads up to a message inside a batch', async () => {
    const { ana, ben, conversationId } = await groupOfTwo()
    const [first, second, third] = [message(ana), message(ana, [ben]), message(ana, [ben])]
    await index.upsert(conversationId, 0, [first, second, third])

    const moved = await index.advanceReadPosition(conversationId, ben, {
      segment: 0,
      laterIds: [third.messageId],
    })
    const back = await index.advanceReadPosition(conversationId, ben, {
      segment: 0,
      laterIds: [second.messageId, third.messageId],
    })

    expect(moved).toBe(true)
    expect(back).toBe(false)
    expect((await index.countUnread(ben, [conversationId])).get(conversationId)).toEqual({
      unreadCount: 1,
      mentionCount: 1,
    })
  })

  it('reads up to a marker given by id in an earlier segment', async () => {
    const { ana, ben, conversationId } = await groupOfTwo()
    const [first, second] = [message(ana), message(ana)]
    await index.upsert(conversationId, 1, [first, second])
    await index.upsert(conversationId, 2, [message(ana), message(ana)])

    await index.advanceReadPosition(conversationId, ben, { segment: 1, messageId: first.messageId })
    const afterFirst = (await index.countUnread(ben, [conversationId])).get(conversationId)
    await index.advanceReadPosition(conversationId, ben, { segment: 2, laterIds: [] })
    const afterAll = (await index.countUnread(ben, [conversationId])).get(conversationId)

    expect(afterFirst).toEqual({ unreadCount: 3, mentionCount: 0 })
    expect(afterAll).toBeUndefined()
  })

  it('counts the history before a member joined as read', async () => {
    const { ana, conversationId } = await groupOfTwo()
    await index.upsert(conversationId, 0, [message(ana), message(ana)])
    const cara = newId() as UserId
    await opened.db
      .insertInto('users')
      .values({
        id: cara,
        username: cara,
        username_key: cara,
        display_name: cara,
        password_hash: 'unused',
      })
      .execute()

    await conversations.addMember(conversationId, cara)
    const beforeNew = await index.countUnread(cara, [conversationId])
    await index.upsert(conversationId, 0, [message(ana)])
    const afterNew = await index.countUnread(cara, [conversationId])

    expect(beforeNew.get(conversationId)).toBeUndefined()
    expect(afterNew.get(conversationId)).toEqual({ unreadCount: 1, mentionCount: 0 })
  })

  it('indexes concurrent messages in document order', async () => {
    const { ana, ben, conversationId } = await groupOfTwo()
    const cara = newId() as UserId
    await opened.db
      .insertInto('users')
      .values({
        id: cara,
        username: cara,
        username_key: cara,
        display_name: cara,
        password_hash: 'x',
      })
      .execute()
    await conversations.addMember(conversationId, cara)
    // Two writers insert at the start of the empty array concurrently. Yjs places the items
    // of one of them first, whatever order the server receives them in.
    const writerUpdate = (clientID: number, authorId: UserId, texts: string[]) => {
      const writer = new Y.Doc()
      writer.clientID = clientID
      for (const text of texts) sendMessage(writer, { authorId, text })
      return Y.encodeStateAsUpdate(writer)
    }
    const server = new Y.Doc()
    const tracker = new UnreadTracker(server, conversationId, 0, {
      index,
      notify: () => {},
      notifyMembers: () => {},
      segmentDocument: () => undefined,
      indexed: () => {},
      log: createLogger('silent'),
    })
    // The first write compares the whole document with the index, in document order.
    tracker.flush()
    await new Promise((resolve) => setTimeout(resolve, 300))
    Y.applyUpdate(server, writerUpdate(2000, ana, ['ana 1', 'ana 2']))
    Y.applyUpdate(server, writerUpdate(1000, ben, ['ben 1', 'ben 2']))
    const ordered = listMessages(server)
    const arrivedSecond = ordered[0]?.authorId === ben ? 'ben' : 'ana'
    tracker.flush()
    await expect.poll(() => index.count(conversationId, 0)).toBe(4)
    tracker.detach()

    // Cara reads up to the second message in document order, which leaves two unread.
    const laterIds = ordered.slice(2).map((entry) => entry.id)
    await index.advanceReadPosition(conversationId, cara, { segment: 0, laterIds })

    expect(arrivedSecond).toBe('ben')
    expect(await indexedIds(conversationId)).toEqual(ordered.map((entry) => entry.id))
    expect((await index.countUnread(cara, [conversationId])).get(conversationId)).toEqual({
      unreadCount: 2,
      mentionCount: 0,
    })
  })

  it('counts mentions only where a message has them', async () => {
    const { ana, ben, conversationId } = await groupOfTwo()
    await index.upsert(conversationId, 0, [message(ana), message(ana, [ben]), message(ana, [ana])])

    const counts = await index.countUnread(ben, [conversationId])

    expect(counts.get(conversationId)).toEqual({ unreadCount: 3, mentionCount: 1 })
  })

  it('deleting a conversation removes its index rows', async () => {
    const { ana, conversationId } = await groupOfTwo()
    const other = await groupOfTwo()
    await index.upsert(conversationId, 0, [message(ana), message(ana)])
    await index.upsert(conversationId, 1, [message(ana)])
    await index.upsert(other.conversationId, 0, [message(other.ana)])

    await conversations.markDeleted(conversationId)

    expect(await indexedIds(conversationId)).toEqual([])
    expect(await indexedIds(other.conversationId)).toHaveLength(1)
    expect(await index.count(conversationId, 0)).toBe(0)
    expect(await index.count(conversationId, 1)).toBe(0)
    expect(await index.count(other.conversationId, 0)).toBe(1)
  })

  it('moves an index of a row per message into batches', async () => {
    const { ana, ben, conversationId } = await groupOfTwo()
    const [read, mentioning, removed, later] = [newId(), newId(), newId(), newId()]
    // Puts the schema back to before the migration, as migration 0008 left it.
    await sql`drop table message_batches`.execute(opened.db)
    await sql`create table message_index (
      conversation_id text not null, message_id text not null, seq bigserial not null,
      author_id text not null, mentions text[], deleted boolean not null default false,
      segment integer not null default 0,
      constraint message_index_pk primary key (conversation_id, message_id))`.execute(opened.db)
    // Migration 0010 came later, so the test undoes it too.
    await sql`alter table document_updates drop column codec`.execute(opened.db)
    await sql`alter table document_updates
      add column created_at timestamptz not null default now()`.execute(opened.db)
    await sql`delete from kysely_migration
      where name in ('0009_message_batches', '0010_update_row_codec')`.execute(opened.db)
    const insertRow = async (
      id: string,
      segment: number,
      mentions: string[] | null,
      deleted = false,
    ) => {
      const result = await sql<{ seq: string }>`
        insert into message_index (conversation_id, message_id, author_id, mentions, deleted, segment)
        values (${conversationId}, ${id}, ${ana}, ${mentions}, ${deleted}, ${segment})
        returning seq`.execute(opened.db)
      return Number(result.rows[0]?.seq)
    }
    const readSeq = await insertRow(read, 0, [])
    await insertRow(mentioning, 1, [ben])
    await insertRow(removed, 1, null, true)
    await insertRow(later, 2, [])
    await sql`update members set read_seq = ${readSeq}
      where conversation_id = ${conversationId} and user_id = ${ben}`.execute(opened.db)

    const applied = await migrateToLatest(opened.db as Kysely<unknown>)

    expect(applied).toEqual(['0009_message_batches', '0010_update_row_codec'])
    expect(await indexedIds(conversationId)).toEqual([read, mentioning, removed, later])
    expect(await index.count(conversationId, 0)).toBe(1)
    expect(await index.count(conversationId, 1)).toBe(2)
    expect((await index.locate(conversationId, later))?.segment).toBe(2)
    expect((await index.countUnread(ben, [conversationId])).get(conversationId)).toEqual({
      unreadCount: 2,
      mentionCount: 1,
    })
    // New batches follow the migrated ones.
    const next = message(ana)
    expect(await index.upsert(conversationId, 2, [next])).toBe(1)
    expect(await indexedIds(conversationId)).toEqual([
      read,
      mentioning,
      removed,
      later,
      next.messageId,
    ])
  })
})

describe('MessageIndex with concurrent writers on postgres', () => {
  let database: TestDatabase
  let opened: OpenDatabase

  beforeAll(async () => {
    database = await createDatabase('postgres')
    opened = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir })
  })
  afterAll(async () => {
    await opened.close()
    await database.drop()
  })

  it('indexes a concurrently inserted message once', async () => {
    const index = new MessageIndex(opened.db)
    const conversationId = newId()
    const authorId = newId() as UserId
    const shared = message(authorId, [authorId])
    const own = message(authorId)
    let concurrent: Promise<number> | undefined

    await opened.db.transaction().execute(async (trx) => {
      await new MessageIndex(trx).upsert(conversationId, 0, [shared])
      // This upsert waits for the segment's advisory lock until the commit below, and then
      // finds the row that the transaction inserted.
      concurrent = index.upsert(conversationId, 0, [own, shared])
      await new Promise((resolve) => setTimeout(resolve, 300))
    })
    const changed = await concurrent

    const rows = await opened.db
      .selectFrom('message_batches')
      .select(['message_ids', 'mentions'])
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute()
    expect(changed).toBe(1)
    expect(await index.count(conversationId, 0)).toBe(2)
    expect(rows).toEqual([
      { message_ids: [shared.messageId], mentions: [authorId] },
      { message_ids: [own.messageId], mentions: [null] },
    ])
  })
})

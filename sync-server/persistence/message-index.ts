import { type Kysely, sql, type Transaction } from 'kysely'
import { MAX_UNREAD_COUNT } from '../../shared/api.ts'
import type { Database } from './schema.ts'

/** A message of a conversation document as the index stores it. */
export interface IndexedMessage {
  messageId: string
  authorId: string
  /** Ids of the users the message mentions. */
  mentions: string[]
  /** Deleted by its author or removed by a moderator. */
  deleted: boolean
}

/**
 * Position of a member's read marker in a segment: before the messages `laterIds` that
 * follow the marker in that segment's document, or, when the document is not at hand, at
 * the marker's own message `messageId`.
 */
export type ReadBoundary =
  { segment: number; laterIds: string[] } | { segment: number; messageId: string }

/** Unread and mention counts of one member in one conversation. */
export interface UnreadCounts {
  unreadCount: number
  mentionCount: number
}

/**
 * Messages per batch row, below POSITIONS_PER_BATCH so that a message's ordinal fits in
 * its position.
 */
const MESSAGES_PER_BATCH = 1000
/**
 * Positions that one batch row spans. A message's position is its batch's seq times this
 * plus its 1-based ordinal in the batch, so positions follow the order of indexing.
 */
export const POSITIONS_PER_BATCH = 1024

/** A batch row as upsert reads it back. */
interface StoredBatch {
  seq: number
  message_ids: string[]
  mentions: (string | null)[]
  deleted: boolean[]
}

/**
 * Returns a message's mentions as the batch stores them: the user ids joined by spaces, or
 * NULL for none. Ids match ID_PATTERN, so they contain no space.
 */
function storedMentions(message: IndexedMessage): string | null {
  return message.mentions.length > 0 ? message.mentions.join(' ') : null
}

/**
 * The messages of every conversation in the order the server indexed them, with the history
 * segment that contains each, and the read position of each member in that order. Unread
 * counts are computed from these two alone, without loading documents.
 *
 * Messages are stored in batches: one row of message_batches per index write of a segment,
 * with the ids, authors, mentions and deleted flags of its messages in parallel arrays. A row
 * per message cost about 450 bytes of WAL in a tuple header and three index entries, which a
 * batch row pays once for all its messages.
 */
export class MessageIndex {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts the messages of one segment not indexed yet, in the given order, as one batch,
   * and updates mentions and the deleted flag of the others. A message lives in the document
   * of one segment, so it is looked up in that segment's batches only. Every instance that
   * applies the same update calls this, so a repeat changes nothing: an advisory lock on the
   * segment serializes the writers of one segment, across instances too. Returns how many
   * messages were inserted or changed.
   */
  async upsert(
    conversationId: string,
    segment: number,
    messages: IndexedMessage[],
  ): Promise<number> {
    const unique = [...new Map(messages.map((message) => [message.messageId, message])).values()]
    if (unique.length === 0) return 0
    const write = async (trx: Transaction<Database>) => {
      await sql`select pg_advisory_xact_lock(hashtext(${conversationId}), ${segment})`.execute(trx)
      const stored = await storedBatches(trx, conversationId, segment, unique)
      const changed = await updateChanged(trx, stored, unique)
      const indexed = new Set(stored.flatMap((batch) => batch.message_ids))
      const fresh = unique.filter((message) => !indexed.has(message.messageId))
      for (let start = 0; start < fresh.length; start += MESSAGES_PER_BATCH) {
        const batch = fresh.slice(start, start + MESSAGES_PER_BATCH)
        await insertBatch(trx, conversationId, segment, batch)
      }
      return changed + fresh.length
    }
    // An index made on a transaction writes within it, since kysely nests none.
    if (this.db.isTransaction) return write(this.db as Transaction<Database>)
    return this.db.transaction().execute(write)
  }

  /** Returns how many messages of one segment of a conversation are indexed. */
  async count(conversationId: string, segment: number): Promise<number> {
    const row = await this.db
      .selectFrom('message_batches')
      .select(sql<string>`coalesce(sum(cardinality(message_ids)), 0)`.as('messages'))
      .where('conversation_id', '=', conversationId)
      .where('segment', '=', segment)
      .executeTakeFirstOrThrow()
    return Number(row.messages)
  }

  /**
   * Returns the segment and position of an indexed message, or undefined when it is not
   * indexed. The lookup walks the conversation's batches from the newest, so it is fast for
   * recent messages, such as read markers.
   */
  async locate(
    conversationId: string,
    messageId: string,
  ): Promise<{ segment: number; position: number } | undefined> {
    // NOTE: a message far back reads every batch after it; a jump to a reply's original 100
    // segments back reads about 25,000 messages' ids.
    const row = await this.db
      .selectFrom('message_batches')
      .select([
        'segment',
        sql<string>`seq * ${POSITIONS_PER_BATCH} + array_position(message_ids, ${messageId})`.as(
          'position',
        ),
      ])
      .where('conversation_id', '=', conversationId)
      .where(sql<boolean>`${messageId} = any(message_ids)`)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()
    return row && { segment: row.segment, position: Number(row.position) }
  }

  /** Returns the position of a conversation's newest indexed message, 0 when it has none. */
  async newestPosition(conversationId: string): Promise<number> {
    const row = await this.db
      .selectFrom('message_batches')
      .select(sql<string>`seq * ${POSITIONS_PER_BATCH} + cardinality(message_ids)`.as('position'))
      .where('conversation_id', '=', conversationId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()
    return Number(row?.position ?? 0)
  }

  /**
   * Moves a member's read position to the highest position among the conversation's
   * messages up to the read marker: those of earlier segments, and those of the marker's
   * segment other than the ones after the marker. With `laterIds`, a message that was indexed
   * late but sits before the marker therefore counts as read. With only the marker's
   * `messageId`, the marker's own position bounds its segment instead, which never counts
   * more as read. The position only moves forward, so instances that process markers in a
   * different order end on the same value. Returns whether it moved.
   */
  async advanceReadPosition(
    conversationId: string,
    userId: string,
    boundary: ReadBoundary,
  ): Promise<boolean> {
    const inSegment =
      'laterIds' in boundary
        ? sql<boolean>`m.id <> all(${boundary.laterIds}::text[])`
        : sql<boolean>`b.seq * ${POSITIONS_PER_BATCH} + m.ordinal <= (
            select marker.seq * ${POSITIONS_PER_BATCH}
              + array_position(marker.message_ids, ${boundary.messageId})
            from message_batches as marker
            where marker.conversation_id = ${conversationId}
              and marker.segment = ${boundary.segment}
              and ${boundary.messageId} = any(marker.message_ids)
          )`
    // The newest message of the earlier segments is the last of the newest batch among
    // them, found by walking the primary key down from the newest batch. The marker's
    // segment is read through the index by segment. greatest ignores a lookup that found
    // nothing.
    const result = await sql<{ user_id: string }>`
      update members
      set read_seq = newest.position
      from (
        select greatest(
          (select seq * ${POSITIONS_PER_BATCH} + cardinality(message_ids) from message_batches
            where conversation_id = ${conversationId} and segment < ${boundary.segment}
            order by seq desc
            limit 1),
          (select max(b.seq * ${POSITIONS_PER_BATCH} + m.ordinal)
            from message_batches as b
            cross join lateral unnest(b.message_ids) with ordinality as m(id, ordinal)
            where b.conversation_id = ${conversationId}
              and b.segment = ${boundary.segment}
              and ${inSegment})
        ) as position
      ) as newest
      where members.conversation_id = ${conversationId}
        and members.user_id = ${userId}
        and newest.position > members.read_seq
      returning members.user_id
    `.execute(this.db)
    return result.rows.length > 0
  }

  /**
   * Counts, per conversation, the messages after the user's read position that others
   * wrote and that are not deleted, and those of them that mention the user. Conversations
   * without such messages are absent from the result. One query for all of them, reading
   * batches from the newest until MAX_UNREAD_COUNT messages are found: with more unread
   * messages the count stops there, and mentions are counted among the newest of them.
   */
  async countUnread(userId: string, conversationIds: string[]): Promise<Map<string, UnreadCounts>> {
    const counts = new Map<string, UnreadCounts>()
    if (conversationIds.length === 0) return counts
    // The walk visits one batch at a time, newest first, through the primary key, and stops
    // once the batches visited hold MAX_UNREAD_COUNT messages that count. A range scan over
    // every batch after the read position would read them all for a reader far behind,
    // since Postgres cannot stop it after the limit once it sorts the messages of a batch.
    // NOTE: a reader MAX_UNREAD_COUNT messages behind in a conversation of one message per
    // batch costs MAX_UNREAD_COUNT index probes, about 15 ms on a 2-core machine.
    const counted = (authors: string, deleted: string) => sql<string>`(
      select count(*) from unnest(${sql.ref(authors)}, ${sql.ref(deleted)}) as c(author_id, deleted)
      where c.author_id <> ${userId} and not c.deleted
    )`
    const { rows } = await sql<{ conversation_id: string; unread: string; mentions: string }>`
      select m.conversation_id, newest.unread, newest.mentions
      from members as m
      cross join lateral (
        with recursive walk (seq, author_ids, deleted, mentions, counted) as (
          (select seq, author_ids, deleted, mentions, ${counted('author_ids', 'deleted')}
            from message_batches
            where conversation_id = m.conversation_id and seq >= m.read_seq / ${POSITIONS_PER_BATCH}
            order by seq desc
            limit 1)
          union all
          (select b.seq, b.author_ids, b.deleted, b.mentions,
              walk.counted + ${counted('b.author_ids', 'b.deleted')}
            from walk
            cross join lateral (
              select * from message_batches
              where conversation_id = m.conversation_id
                and seq < walk.seq
                and seq >= m.read_seq / ${POSITIONS_PER_BATCH}
              order by seq desc
              limit 1
            ) as b
            where walk.counted < ${MAX_UNREAD_COUNT})
        )
        select count(*) as unread,
          count(*) filter (where ${userId} = any(string_to_array(u.mentions, ' '))) as mentions
        from (
          select e.mentions
          from walk
          cross join lateral unnest(walk.author_ids, walk.deleted, walk.mentions)
            with ordinality as e(author_id, deleted, mentions, ordinal)
          where walk.seq * ${POSITIONS_PER_BATCH} + e.ordinal > m.read_seq
            and e.author_id <> ${userId}
            and not e.deleted
          order by walk.seq desc, e.ordinal desc
          limit ${MAX_UNREAD_COUNT}
        ) as u
      ) as newest
      where m.user_id = ${userId}
        and m.conversation_id in (${sql.join(conversationIds)})
        and newest.unread > 0
    `.execute(this.db)
    for (const row of rows) {
      counts.set(row.conversation_id, {
        unreadCount: Number(row.unread),
        mentionCount: Number(row.mentions),
      })
    }
    return counts
  }
}

/** Reads the batches of a segment that contain any of the given messages. */
async function storedBatches(
  trx: Transaction<Database>,
  conversationId: string,
  segment: number,
  messages: IndexedMessage[],
): Promise<StoredBatch[]> {
  const ids = messages.map((message) => message.messageId)
  const rows = await trx
    .selectFrom('message_batches')
    .select(['seq', 'message_ids', 'mentions', 'deleted'])
    .where('conversation_id', '=', conversationId)
    .where('segment', '=', segment)
    .where(sql<boolean>`message_ids && ${ids}::text[]`)
    .execute()
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }))
}

/**
 * Writes the mentions and deleted flags that changed into the stored batches, rewriting each
 * batch row that has a change. Returns how many messages changed.
 */
async function updateChanged(
  trx: Transaction<Database>,
  stored: StoredBatch[],
  messages: IndexedMessage[],
): Promise<number> {
  const byId = new Map(messages.map((message) => [message.messageId, message]))
  let changed = 0
  for (const batch of stored) {
    const mentions = [...batch.mentions]
    const deleted = [...batch.deleted]
    let batchChanged = false
    batch.message_ids.forEach((id, ordinal) => {
      const message = byId.get(id)
      if (!message) return
      const expected = storedMentions(message)
      if (mentions[ordinal] === expected && deleted[ordinal] === message.deleted) return
      mentions[ordinal] = expected
      deleted[ordinal] = message.deleted
      batchChanged = true
      changed++
    })
    if (!batchChanged) continue
    await trx
      .updateTable('message_batches')
      .set({ mentions, deleted })
      .where('seq', '=', batch.seq)
      .execute()
  }
  return changed
}

/** Inserts messages as one batch row. */
async function insertBatch(
  trx: Transaction<Database>,
  conversationId: string,
  segment: number,
  messages: IndexedMessage[],
): Promise<void> {
  await trx
    .insertInto('message_batches')
    .values({
      conversation_id: conversationId,
      segment,
      message_ids: messages.map((message) => message.messageId),
      author_ids: messages.map((message) => message.authorId),
      mentions: messages.map(storedMentions),
      deleted: messages.map((message) => message.deleted),
    })
    .execute()
}

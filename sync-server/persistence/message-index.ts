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

/** Rows per insert. Five parameters a row stay far below the 65,535 that Postgres accepts. */
const ROWS_PER_INSERT = 500

/**
 * Returns the value of the mentions column for a message. It is NULL when the message
 * mentions no one, which costs the row only a bit of its null bitmap. Older rows hold an
 * empty array instead, so comparisons treat NULL and an empty array alike.
 */
function storedMentions(message: IndexedMessage): string[] | null {
  return message.mentions.length > 0 ? message.mentions : null
}

/**
 * The messages of every conversation in the order the server indexed them, with the history
 * segment that contains each, and the read position of each member in that order. Unread counts
 * are computed from these two alone, without loading documents.
 */
export class MessageIndex {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts the messages of one segment not indexed yet, in the given order, and updates
   * mentions and the deleted flag of the others. A message keeps the segment it was first
   * indexed in. Every instance that applies the same update calls this, so a repeat changes
   * nothing. The segment's count in message_segments grows by the rows inserted, in the same
   * transaction. Returns how many rows were inserted or changed.
   */
  async upsert(
    conversationId: string,
    segment: number,
    messages: IndexedMessage[],
  ): Promise<number> {
    if (messages.length === 0) return 0
    const write = async (trx: Transaction<Database>) => {
      let changed = 0
      let inserted = 0
      for (let start = 0; start < messages.length; start += ROWS_PER_INSERT) {
        const batch = messages.slice(start, start + ROWS_PER_INSERT)
        const written = await upsertOnConflict(trx, conversationId, segment, batch)
        changed += written.length
        inserted += written.filter((row) => row.inserted).length
      }
      if (inserted > 0) await countInserted(trx, conversationId, segment, inserted)
      return changed
    }
    // An index made on a transaction writes within it, since kysely nests none.
    if (this.db.isTransaction) return write(this.db as Transaction<Database>)
    return this.db.transaction().execute(write)
  }

  /** Returns how many messages of one segment of a conversation are indexed. */
  async count(conversationId: string, segment: number): Promise<number> {
    const row = await this.db
      .selectFrom('message_segments')
      .select('messages')
      .where('conversation_id', '=', conversationId)
      .where('segment', '=', segment)
      .executeTakeFirst()
    return row?.messages ?? 0
  }

  /** Returns the segment and seq of an indexed message, or undefined when it is not indexed. */
  async locate(
    conversationId: string,
    messageId: string,
  ): Promise<{ segment: number; seq: number } | undefined> {
    return this.db
      .selectFrom('message_index')
      .select(['segment', 'seq'])
      .where('conversation_id', '=', conversationId)
      .where('message_id', '=', messageId)
      .executeTakeFirst()
  }

  /**
   * Moves a member's read position to the highest seq among the conversation's messages up
   * to the read marker: those of earlier segments, and those of the marker's segment other
   * than the ones after the marker. With `laterIds`, a message that was indexed late but
   * sits before the marker therefore counts as read. With only the marker's `messageId`,
   * the marker's own seq bounds its segment instead, which never counts more as read.
   * The position only moves forward, so instances that process markers in a different
   * order end on the same value. Returns whether it moved.
   */
  async advanceReadPosition(
    conversationId: string,
    userId: string,
    boundary: ReadBoundary,
  ): Promise<boolean> {
    const inSegment =
      'laterIds' in boundary
        ? sql<boolean>`message_id <> all(${boundary.laterIds}::text[])`
        : sql<boolean>`seq <= (
            select marker.seq from message_index as marker
            where marker.conversation_id = ${conversationId}
              and marker.message_id = ${boundary.messageId}
          )`
    // Two lookups replace one max over every earlier message. Each walks the index on
    // (conversation_id, seq) down from the newest message and stops at the first match, so
    // it passes only the messages of the marker's segment and later ones. greatest ignores a
    // lookup that found nothing.
    const result = await sql<{ user_id: string }>`
      update members
      set read_seq = newest.seq
      from (
        select greatest(
          (select seq from message_index
            where conversation_id = ${conversationId} and segment < ${boundary.segment}
            order by seq desc
            limit 1),
          (select max(seq) from message_index
            where conversation_id = ${conversationId}
              and segment = ${boundary.segment}
              and ${inSegment})
        ) as seq
      ) as newest
      where members.conversation_id = ${conversationId}
        and members.user_id = ${userId}
        and newest.seq > members.read_seq
      returning members.user_id
    `.execute(this.db)
    return result.rows.length > 0
  }

  /**
   * Counts, per conversation, the messages after the user's read position that others
   * wrote and that are not deleted, and those of them that mention the user. Conversations
   * without such messages are absent from the result. One query for all of them, reading at
   * most MAX_UNREAD_COUNT index entries per conversation: with more unread messages the
   * count stops there, and mentions are counted among the newest MAX_UNREAD_COUNT of them.
   */
  async countUnread(userId: string, conversationIds: string[]): Promise<Map<string, UnreadCounts>> {
    const counts = new Map<string, UnreadCounts>()
    if (conversationIds.length === 0) return counts
    const { rows } = await sql<{ conversation_id: string; unread: string; mentions: string }>`
      select m.conversation_id, newest.unread, newest.mentions
      from members as m
      cross join lateral (
        -- any() over a NULL array is NULL, so a message without mentions is not counted.
        select count(*) as unread, count(*) filter (where ${userId} = any(u.mentions)) as mentions
        from (
          select i.mentions from message_index as i
          where i.conversation_id = m.conversation_id
            and i.seq > m.read_seq
            and i.author_id <> ${userId}
            and i.deleted = false
          order by i.seq desc
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

/**
 * Writes one batch with INSERT .. ON CONFLICT, which waits for concurrent inserts. Returns
 * the rows written, each marked whether it was inserted: a row that Postgres inserted has
 * no xmax, while one that the conflict clause updated has the updating transaction's id.
 */
async function upsertOnConflict(
  trx: Transaction<Database>,
  conversationId: string,
  segment: number,
  batch: IndexedMessage[],
): Promise<{ inserted: boolean }[]> {
  const rows = batch.map((message) => ({
    conversation_id: conversationId,
    message_id: message.messageId,
    author_id: message.authorId,
    mentions: storedMentions(message),
    deleted: message.deleted,
    segment,
  }))
  return trx
    .insertInto('message_index')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['conversation_id', 'message_id'])
        .doUpdateSet({
          mentions: (eb) => eb.ref('excluded.mentions'),
          deleted: (eb) => eb.ref('excluded.deleted'),
        })
        .where(
          sql<boolean>`(coalesce(message_index.mentions, '{}'), message_index.deleted)
            is distinct from (coalesce(excluded.mentions, '{}'), excluded.deleted)`,
        ),
    )
    .returning(sql<boolean>`xmax = 0`.as('inserted'))
    .execute()
}

/** Adds newly indexed messages to their segment's count. */
async function countInserted(
  trx: Transaction<Database>,
  conversationId: string,
  segment: number,
  inserted: number,
): Promise<void> {
  await trx
    .insertInto('message_segments')
    .values({ conversation_id: conversationId, segment, messages: inserted })
    .onConflict((oc) =>
      oc.columns(['conversation_id', 'segment']).doUpdateSet({
        messages: sql<number>`message_segments.messages + excluded.messages`,
      }),
    )
    .execute()
}

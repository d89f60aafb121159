import { type Kysely, type Selectable, sql, type Transaction } from 'kysely'
import type { Conversation, MemberRole } from '../../shared/api.ts'
import { type ConversationId, newId, type UserId } from '../../shared/ids.ts'
import { MessageIndex, POSITIONS_PER_BATCH, type UnreadCounts } from './message-index.ts'
import type { ConversationsTable, Database } from './schema.ts'
import { toUser } from './users.ts'

type ConversationRow = Selectable<ConversationsTable>

/** Access of one user to one conversation, as the sync server checks it. */
export type Membership =
  { status: 'member'; role: MemberRole } | { status: 'not_member' } | { status: 'deleted' }

/** Result of removing a member, with `promotedId`, the member who became admin in their place. */
export type RemoveResult =
  { ok: true; promotedId?: UserId } | { ok: false; reason: 'not_member' | 'direct' }

/** Conversations, their members and the activity shown in the conversation list. */
export class ConversationStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Lists the visible conversations of a user, newest activity first. */
  async listForUser(userId: UserId): Promise<Conversation[]> {
    const rows = await this.db
      .selectFrom('conversations as c')
      .innerJoin('members as m', 'm.conversation_id', 'c.id')
      .selectAll('c')
      .where('m.user_id', '=', userId)
      .where('m.hidden', '=', false)
      .where('c.deleted_at', 'is', null)
      .orderBy('c.last_activity_at', 'desc')
      .orderBy('c.id')
      .execute()
    return this.withMembers(this.db, rows, userId)
  }

  /** Returns a conversation when the user is a member of it and it is not deleted. */
  async getForMember(id: string, userId: UserId): Promise<Conversation | undefined> {
    const membership = await this.membership(id, userId)
    if (membership.status !== 'member') return undefined
    return this.get(this.db, id, userId)
  }

  /** Returns the access of a user to a conversation. */
  async membership(id: string, userId: string): Promise<Membership> {
    const row = await this.db
      .selectFrom('conversations as c')
      .leftJoin('members as m', (join) =>
        join.onRef('m.conversation_id', '=', 'c.id').on('m.user_id', '=', userId),
      )
      .select(['c.deleted_at', 'm.role'])
      .where('c.id', '=', id)
      .executeTakeFirst()
    if (!row) return { status: 'not_member' }
    if (row.deleted_at) return row.role ? { status: 'deleted' } : { status: 'not_member' }
    return row.role ? { status: 'member', role: row.role } : { status: 'not_member' }
  }

  /** Creates a group whose creator is its admin. */
  async createGroup(creatorId: UserId, title: string, memberIds: UserId[]): Promise<Conversation> {
    const id = newId()
    const others = [...new Set(memberIds)].filter((memberId) => memberId !== creatorId)
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('conversations')
        .values({ id, kind: 'group', title, direct_key: null, last_activity_at: new Date() })
        .execute()
      await trx
        .insertInto('members')
        .values([
          { conversation_id: id, user_id: creatorId, role: 'admin', hidden: false },
          ...others.map((userId) => ({
            conversation_id: id,
            user_id: userId,
            role: 'member' as const,
            hidden: false,
          })),
        ])
        .execute()
      return this.getOrThrow(trx, id, creatorId)
    })
  }

  /**
   * Returns the direct chat of two users, creating it if needed. The unique direct_key
   * makes concurrent creations from either side meet on one row.
   */
  async findOrCreateDirect(
    creatorId: UserId,
    otherId: UserId,
  ): Promise<{ conversation: Conversation; created: boolean }> {
    const key = [creatorId, otherId].sort().join(':')
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('conversations')
        .values({
          id: newId(),
          kind: 'direct',
          title: null,
          direct_key: key,
          last_activity_at: new Date(),
        })
        .onConflict((oc) => oc.column('direct_key').doNothing())
        .returning('id')
        .executeTakeFirst()
      const row = await trx
        .selectFrom('conversations')
        .select('id')
        .where('direct_key', '=', key)
        .executeTakeFirstOrThrow()
      await trx
        .insertInto('members')
        .values([creatorId, otherId].map((userId) => memberRow(row.id, userId, 'member')))
        .onConflict((oc) => oc.columns(['conversation_id', 'user_id']).doNothing())
        .execute()
      // Starting a direct chat again shows it again for its creator after leaving it.
      await trx
        .updateTable('members')
        .set({ hidden: false })
        .where('conversation_id', '=', row.id)
        .where('user_id', '=', creatorId)
        .execute()
      return {
        conversation: await this.getOrThrow(trx, row.id, creatorId),
        created: inserted !== undefined,
      }
    })
  }

  /** Renames a conversation. The unread counts returned are those of viewerId, when given. */
  async rename(id: string, title: string, viewerId?: UserId): Promise<Conversation> {
    await this.db.updateTable('conversations').set({ title }).where('id', '=', id).execute()
    return this.getOrThrow(this.db, id, viewerId)
  }

  /**
   * Marks a conversation deleted; members keep a row so their devices learn of the deletion.
   * Its message index goes, since nothing counts unread messages of a deleted conversation.
   * message_batches has no foreign key to conversations, so only this delete removes its rows.
   */
  async markDeleted(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('conversations')
        .set({ deleted_at: new Date(), last_message_text: null })
        .where('id', '=', id)
        .execute()
      await trx.deleteFrom('message_batches').where('conversation_id', '=', id).execute()
    })
  }

  /**
   * Adds a member, and returns false when the user was a member already. The history before
   * the member joined counts as read.
   */
  async addMember(id: string, userId: UserId): Promise<boolean> {
    const readSeq = sql<number>`coalesce((
      select seq * ${POSITIONS_PER_BATCH} + cardinality(message_ids) from message_batches
      where conversation_id = ${id}
      order by seq desc
      limit 1
    ), 0)`
    const result = await this.db
      .insertInto('members')
      .values({ ...memberRow(id, userId, 'member'), read_seq: readSeq })
      .onConflict((oc) => oc.columns(['conversation_id', 'user_id']).doNothing())
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
  }

  /** Lists the ids of a conversation's members, hidden ones included. */
  async memberIds(id: string): Promise<UserId[]> {
    const rows = await this.db
      .selectFrom('members')
      .select('user_id')
      .where('conversation_id', '=', id)
      .execute()
    return rows.map((row) => row.user_id as UserId)
  }

  async setRole(id: string, userId: UserId, role: MemberRole): Promise<boolean> {
    const result = await this.db
      .updateTable('members')
      .set({ role })
      .where('conversation_id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) > 0
  }

  /**
   * Removes a member of a group. When the last admin goes, the longest-standing remaining
   * member becomes admin, in the same transaction so that no group is left without one.
   */
  async removeMember(id: string, userId: UserId): Promise<RemoveResult> {
    return this.db.transaction().execute(async (trx) => {
      // Removals from one group run one at a time. Without this lock, two admins leaving at
      // once each wait on the other's deleted row in the admin check below and deadlock.
      await trx.selectFrom('conversations').select('id').where('id', '=', id).forUpdate().execute()
      const removed = await trx
        .deleteFrom('members')
        .where('conversation_id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      if (Number(removed.numDeletedRows) === 0) return { ok: false, reason: 'not_member' }

      const admins = await trx
        .selectFrom('members')
        .select('user_id')
        .where('conversation_id', '=', id)
        .where('role', '=', 'admin')
        .forUpdate()
        .execute()
      if (admins.length > 0) return { ok: true }
      const successor = await trx
        .selectFrom('members')
        .select('user_id')
        .where('conversation_id', '=', id)
        .orderBy('joined_at')
        .orderBy('user_id')
        .limit(1)
        .executeTakeFirst()
      if (successor) {
        await trx
          .updateTable('members')
          .set({ role: 'admin' })
          .where('conversation_id', '=', id)
          .where('user_id', '=', successor.user_id)
          .execute()
        return { ok: true, promotedId: successor.user_id as UserId }
      }
      return { ok: true }
    })
  }

  /** Hides a direct chat for one of its members. */
  async hideDirect(id: string, userId: UserId): Promise<void> {
    await this.db
      .updateTable('members')
      .set({ hidden: true })
      .where('conversation_id', '=', id)
      .where('user_id', '=', userId)
      .execute()
  }

  /**
   * Stores the newest message as the conversation's activity and shows hidden direct chats.
   * Only a changed preview counts as activity: read markers, reactions and system events
   * leave the conversation's place in every list. The repeat of a preview that another
   * instance recorded already changes nothing either.
   */
  async recordActivity(
    id: string,
    last: { authorId: string; text: string; createdAt: Date } | undefined,
    at: Date,
  ): Promise<void> {
    const preview = {
      last_message_author: last?.authorId ?? null,
      last_message_text: last?.text ?? null,
      last_message_at: last?.createdAt ?? null,
    }
    const changed = await this.db
      .updateTable('conversations')
      .set({ last_activity_at: at, ...preview })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .where(
        sql<boolean>`(last_message_author, last_message_text, last_message_at)
          is distinct from (${preview.last_message_author}::text,
            ${preview.last_message_text}::text, ${preview.last_message_at}::timestamptz)`,
      )
      .returning('id')
      .executeTakeFirst()
    if (!changed) return
    await this.db
      .updateTable('members')
      .set({ hidden: false })
      .where('conversation_id', '=', id)
      .where('hidden', '=', true)
      .execute()
  }

  private async getOrThrow(
    db: Kysely<Database>,
    id: string,
    viewerId?: UserId,
  ): Promise<Conversation> {
    const conversation = await this.get(db, id, viewerId)
    if (!conversation) throw new Error(`conversation ${id} is missing`)
    return conversation
  }

  private async get(
    db: Kysely<Database>,
    id: string,
    viewerId?: UserId,
  ): Promise<Conversation | undefined> {
    const row = await db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst()
    if (!row) return undefined
    const [conversation] = await this.withMembers(db, [row], viewerId)
    return conversation
  }

  /** Adds members to conversation rows, and the unread counts of viewerId when given. */
  private async withMembers(
    db: Kysely<Database> | Transaction<Database>,
    rows: ConversationRow[],
    viewerId?: UserId,
  ): Promise<Conversation[]> {
    if (rows.length === 0) return []
    const members = await db
      .selectFrom('members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.conversation_id', 'm.role', 'u.id', 'u.username', 'u.display_name'])
      .where(
        'm.conversation_id',
        'in',
        rows.map((row) => row.id),
      )
      .orderBy('m.joined_at')
      .orderBy('u.username_key')
      .execute()
    const byConversation = new Map<string, Conversation['members']>()
    for (const member of members) {
      const list = byConversation.get(member.conversation_id) ?? []
      list.push({ user: toUser(member), role: member.role })
      byConversation.set(member.conversation_id, list)
    }
    const ids = rows.map((row) => row.id)
    const counts = viewerId
      ? await new MessageIndex(db).countUnread(viewerId, ids)
      : new Map<string, UnreadCounts>()
    return rows.map((row) =>
      toConversation(row, byConversation.get(row.id) ?? [], counts.get(row.id)),
    )
  }
}

function memberRow(conversationId: string, userId: string, role: MemberRole) {
  return { conversation_id: conversationId, user_id: userId, role, hidden: false }
}

function toConversation(
  row: ConversationRow,
  members: Conversation['members'],
  counts: UnreadCounts | undefined,
): Conversation {
  const lastMessage =
    row.last_message_author && row.last_message_text !== null && row.last_message_at
      ? {
          authorId: row.last_message_author as UserId,
          text: row.last_message_text,
          createdAt: row.last_message_at.toISOString(),
        }
      : null
  return {
    id: row.id as ConversationId,
    kind: row.kind,
    title: row.title,
    members,
    createdAt: row.created_at.toISOString(),
    lastActivityAt: row.last_activity_at.toISOString(),
    lastMessage,
    unreadCount: counts?.unreadCount ?? 0,
    mentionCount: counts?.mentionCount ?? 0,
    openSegment: row.open_segment,
  }
}

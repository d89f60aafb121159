import { type Kysely, sql } from 'kysely'
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration'

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('username', 'text', (col) => col.notNull())
      .addColumn('username_key', 'text', (col) => col.notNull().unique())
      .addColumn('display_name', 'text', (col) => col.notNull())
      .addColumn('password_hash', 'text', (col) => col.notNull())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .execute()

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('user_id', 'text', (col) =>
        col.notNull().references('users.id').onDelete('cascade'),
      )
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .execute()
    await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()

    await db.schema
      .createTable('conversations')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('title', 'text')
      .addColumn('direct_key', 'text', (col) => col.unique())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn('last_activity_at', 'timestamptz', (col) => col.notNull())
      .addColumn('last_message_author', 'text')
      .addColumn('last_message_text', 'text')
      .addColumn('last_message_at', 'timestamptz')
      .addColumn('deleted_at', 'timestamptz')
      .execute()

    await db.schema
      .createTable('members')
      .addColumn('conversation_id', 'text', (col) =>
        col.notNull().references('conversations.id').onDelete('cascade'),
      )
      .addColumn('user_id', 'text', (col) =>
        col.notNull().references('users.id').onDelete('cascade'),
      )
      .addColumn('role', 'text', (col) => col.notNull())
      .addColumn('joined_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addColumn('hidden', 'boolean', (col) => col.notNull().defaultTo(false))
      .addPrimaryKeyConstraint('members_pk', ['conversation_id', 'user_id'])
      .execute()
    await db.schema.createIndex('members_user').on('members').column('user_id').execute()

    await db.schema
      .createTable('documents')
      .addColumn('name', 'text', (col) => col.primaryKey())
      .addColumn('snapshot', 'bytea')
      .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .execute()

    await db.schema
      .createTable('document_updates')
      .addColumn('seq', 'bigserial', (col) => col.primaryKey())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('data', 'bytea', (col) => col.notNull())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .execute()
    await db.schema
      .createIndex('document_updates_name_seq')
      .on('document_updates')
      .columns(['name', 'seq'])
      .execute()
  },
}

/**
 * Indexes the messages of each conversation document, so that unread and mention counts
 * come from one grouped query, and stores each member's read position.
 */
const messageIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('message_index')
      .addColumn('conversation_id', 'text', (col) =>
        col.notNull().references('conversations.id').onDelete('cascade'),
      )
      .addColumn('message_id', 'text', (col) => col.notNull())
      .addColumn('seq', 'bigserial', (col) => col.notNull())
      .addColumn('author_id', 'text', (col) => col.notNull())
      .addColumn('mentions', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
      .addColumn('deleted', 'boolean', (col) => col.notNull().defaultTo(false))
      .addPrimaryKeyConstraint('message_index_pk', ['conversation_id', 'message_id'])
      .execute()
    await db.schema
      .createIndex('message_index_conversation_seq')
      .on('message_index')
      .columns(['conversation_id', 'seq'])
      .execute()
    await db.schema
      .alterTable('members')
      .addColumn('read_seq', 'bigint', (col) => col.notNull().defaultTo(0))
      .execute()
  },
}

/** Binds Yjs client ids to the users that write with them, per document. */
const clientIds: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('client_ids')
      .addColumn('document_name', 'text', (col) => col.notNull())
      .addColumn('client_id', 'bigint', (col) => col.notNull())
      .addColumn('user_id', 'text', (col) => col.notNull())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('client_ids_pk', ['document_name', 'client_id'])
      .execute()
  },
}

/**
 * Splits conversations into history segments: each conversation stores the number of the
 * segment that takes new messages, and each indexed message the segment that contains it.
 * Existing rows get 0, the live document, which held every message before.
 */
const historySegments: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('conversations')
      .addColumn('open_segment', 'integer', (col) => col.notNull().defaultTo(0))
      .execute()
    await db.schema
      .alterTable('message_index')
      .addColumn('segment', 'integer', (col) => col.notNull().defaultTo(0))
      .execute()
  },
}

/**
 * Indexes messages by segment, so that counting the messages of one segment, as the server
 * does on loading a segment, reads that segment's entries rather than every message of the
 * conversation.
 */
const messageIndexBySegment: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('message_index_conversation_segment')
      .on('message_index')
      .columns(['conversation_id', 'segment', 'seq'])
      .execute()
  },
}

/**
 * Drops the foreign key from message_index to conversations. Checking it locked the
 * conversation row for every indexed message, which wrote a WAL record each time. No code
 * deletes conversation rows, because a deleted conversation keeps its row, and markDeleted
 * deletes its message_index rows itself.
 */
const messageIndexWithoutForeignKey: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('message_index')
      .dropConstraint('message_index_conversation_id_fkey')
      .execute()
  },
}

/**
 * Makes (name, seq) the primary key of document_updates in place of seq alone, so that each
 * appended update writes one index entry instead of two. Every query of the table filters
 * by name, and the sequence behind seq keeps seq unique on its own.
 */
const documentUpdatesKeyedByName: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('document_updates').dropConstraint('document_updates_pkey').execute()
    await db.schema.dropIndex('document_updates_name_seq').execute()
    await db.schema
      .alterTable('document_updates')
      .addPrimaryKeyConstraint('document_updates_pkey', ['name', 'seq'])
      .execute()
  },
}

/**
 * Lets message_index store NULL for a message without mentions, which takes no bytes in the
 * row, unlike an empty array. In the persistence benchmark, this shrank the WAL record of an
 * inserted row from 151 to 139 bytes. Rows written before keep their empty arrays.
 */
const messageIndexNullMentions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('message_index')
      .alterColumn('mentions', (col) => col.dropNotNull())
      .execute()
    await db.schema
      .alterTable('message_index')
      .alterColumn('mentions', (col) => col.dropDefault())
      .execute()
  },
}

/**
 * Stores the message index in batches: one row per index write of a segment, with its
 * messages in parallel arrays. A row per message cost about 450 bytes of WAL per message in
 * its tuple header and three index entries. Each old row becomes a batch of one message that
 * keeps its seq. Read positions become positions of the new order: the seq of a message's
 * batch times 1024 plus its ordinal in the batch.
 */
const messageBatches: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('message_batches')
      .addColumn('conversation_id', 'text', (col) => col.notNull())
      .addColumn('seq', 'bigserial', (col) => col.notNull())
      .addColumn('segment', 'integer', (col) => col.notNull())
      .addColumn('message_ids', sql`text[]`, (col) => col.notNull())
      .addColumn('author_ids', sql`text[]`, (col) => col.notNull())
      .addColumn('mentions', sql`text[]`, (col) => col.notNull())
      .addColumn('deleted', sql`boolean[]`, (col) => col.notNull())
      .addPrimaryKeyConstraint('message_batches_pk', ['conversation_id', 'seq'])
      .execute()
    await db.schema
      .createIndex('message_batches_segment')
      .on('message_batches')
      .columns(['conversation_id', 'segment'])
      .execute()
    await sql`
      insert into message_batches
        (conversation_id, seq, segment, message_ids, author_ids, mentions, deleted)
      select conversation_id, seq, segment, array[message_id], array[author_id],
        array[case when cardinality(mentions) > 0 then array_to_string(mentions, ' ') end],
        array[deleted]
      from message_index
    `.execute(db)
    await sql`
      select setval(
        pg_get_serial_sequence('message_batches', 'seq'),
        coalesce((select max(seq) from message_index), 0) + 1,
        false
      )
    `.execute(db)
    await sql`update members set read_seq = read_seq * 1024 + 1 where read_seq > 0`.execute(db)
    await db.schema.dropTable('message_index').execute()
  },
}

/**
 * Lets update rows be stored compressed: codec names how a row's data is packed, and rows
 * written before keep codec 0, plain. Drops created_at, which nothing read, to save its 8
 * bytes in every row and in the WAL.
 */
const updateRowCodec: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('document_updates')
      .addColumn('codec', 'smallint', (col) => col.notNull().defaultTo(0))
      .execute()
    await db.schema.alterTable('document_updates').dropColumn('created_at').execute()
  },
}

const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_message_index': messageIndex,
  '0003_client_ids': clientIds,
  '0004_history_segments': historySegments,
  '0005_message_index_by_segment': messageIndexBySegment,
  '0006_message_index_without_foreign_key': messageIndexWithoutForeignKey,
  '0007_document_updates_keyed_by_name': documentUpdatesKeyedByName,
  '0008_message_index_null_mentions': messageIndexNullMentions,
  '0009_message_batches': messageBatches,
  '0010_update_row_codec': updateRowCodec,
}

class StaticMigrationProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(migrations)
  }
}

/** Applies every pending migration; throws the first migration error. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() })
  const { error, results } = await migrator.migrateToLatest()
  if (error instanceof Error) throw error
  if (error) throw new Error('a migration failed', { cause: error })
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

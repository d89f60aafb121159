/**
 * Stores a generated history in a conversation the way Parley stores compacted documents
 * split into history segments. The live document gets one snapshot row that merges what the
 * conversation had with segment 0 and the open segment's number. Each later segment gets a
 * snapshot row of its own. It also writes the client id bindings of the history's authors
 * in every document, the conversation's open segment, and one message index batch per
 * segment, in order. The Parley server must be stopped meanwhile, since its compaction writes the
 * same rows.
 *
 * Usage: store-history-worker.ts <databaseUrl> <messages> <conversationId> <segmentMessages>
 */
import pg from 'pg'
import * as Y from 'yjs'
import { messagesOf } from '../../shared/chat-document.ts'
import { segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import { unpackUpdate } from '../../sync-server/persistence/update-codec.ts'
import { AUTHOR_CLIENT_IDS, AUTHOR_IDS, loadOrBuildSegmentedHistory } from './history.ts'

const [databaseUrl, sizeArgument, conversationId, segmentArgument] = process.argv.slice(2)
if (!databaseUrl || !sizeArgument || !conversationId || !segmentArgument) {
  throw new Error(
    'usage: store-history-worker.ts <databaseUrl> <messages> <conversationId> <segmentMessages>',
  )
}
const history = loadOrBuildSegmentedHistory(Number(sizeArgument), Number(segmentArgument))
const parts = [history.live, ...history.segments]

/**
 * Writes each segment's messages to the message index as one batch row, in conversation
 * order, the way the server indexes a segment that it loads unindexed.
 */
class IndexBatch {
  constructor(private readonly db: pg.Client) {}

  /** Indexes the messages of one segment and returns how many it has. */
  async add(update: Uint8Array, segment: number): Promise<number> {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, update)
    const entries = messagesOf(doc).toArray()
    if (entries.length === 0) return 0
    await this.db.query(
      `insert into message_batches
         (conversation_id, segment, message_ids, author_ids, mentions, deleted)
       values ($1, $2, $3, $4, $5, $6)`,
      [
        conversationId,
        segment,
        entries.map((entry) => String(entry.get('id'))),
        entries.map((entry) => String(entry.get('authorId'))),
        entries.map(() => null),
        entries.map(() => false),
      ],
    )
    return entries.length
  }
}

const client = new pg.Client({ connectionString: databaseUrl })
await client.connect()
try {
  await client.query('begin')
  let snapshotBytes = 0
  let messages = 0
  const index = new IndexBatch(client)
  for (const [segment, update] of parts.entries()) {
    const name = segmentDocumentName(conversationId as ConversationId, segment)
    snapshotBytes += await mergeIntoSnapshot(client, name, update)
    await bindAuthors(client, name)
    messages += await index.add(update, segment)
  }
  await client.query('update conversations set open_segment = $2 where id = $1', [
    conversationId,
    parts.length - 1,
  ])
  await client.query('commit')
  // Autovacuum vacuums and analyzes a table some time after a bulk insert like this one.
  // Until then the planner's statistics describe the empty tables, and a measurement that
  // starts right away would time plans that a running server does not use, or share the
  // cores with autovacuum.
  await client.query('vacuum analyze')
  console.log(JSON.stringify({ snapshotBytes, messages, segments: parts.length }))
} finally {
  await client.end()
}

async function mergeIntoSnapshot(db: pg.Client, name: string, update: Uint8Array): Promise<number> {
  const rows = await db.query<{ data: Buffer; codec: number }>(
    'select data, codec from document_updates where name = $1 order by seq',
    [name],
  )
  const stored = await db.query<{ snapshot: Buffer | null }>(
    'select snapshot from documents where name = $1',
    [name],
  )
  const updates: Uint8Array[] = []
  const snapshot = stored.rows[0]?.snapshot
  if (snapshot) updates.push(snapshot)
  for (const row of rows.rows) updates.push(unpackUpdate(row.data, row.codec))
  updates.push(update)
  const merged = Y.mergeUpdates(updates)
  await db.query(
    `insert into documents (name, snapshot, updated_at) values ($1, $2, now())
     on conflict (name) do update set snapshot = excluded.snapshot, updated_at = now()`,
    [name, Buffer.from(merged.buffer, merged.byteOffset, merged.byteLength)],
  )
  await db.query('delete from document_updates where name = $1', [name])
  return merged.length
}

async function bindAuthors(db: pg.Client, name: string): Promise<void> {
  for (const [index, clientId] of AUTHOR_CLIENT_IDS.entries()) {
    await db.query(
      `insert into client_ids (document_name, client_id, user_id) values ($1, $2, $3)
       on conflict do nothing`,
      [name, clientId, AUTHOR_IDS[index]],
    )
  }
}

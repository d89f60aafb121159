/**
 * Stores a generated history in a conversation the way Parley stores a compacted document.
 * It writes one snapshot row that merges what the conversation had with the history, the
 * client id bindings of the history's authors, and one message_index row per message in
 * order. The Parley server must be stopped meanwhile, since its compaction writes the same
 * row.
 *
 * Usage: store-history-worker.ts <databaseUrl> <messages> <conversationId>
 */
import pg from 'pg'
import * as Y from 'yjs'
import { messagesOf } from '../../shared/chat-document.ts'
import { AUTHOR_CLIENT_IDS, AUTHOR_IDS, loadOrBuildHistory } from './history.ts'

/** Rows per message_index insert. */
const INDEX_BATCH = 10_000

const [databaseUrl, sizeArgument, conversationId] = process.argv.slice(2)
if (!databaseUrl || !sizeArgument || !conversationId) {
  throw new Error('usage: store-history-worker.ts <databaseUrl> <messages> <conversationId>')
}
const documentName = `conv:${conversationId}`
const history = loadOrBuildHistory(Number(sizeArgument))

const client = new pg.Client({ connectionString: databaseUrl })
await client.connect()
try {
  await client.query('begin')
  const snapshotBytes = await mergeIntoSnapshot(client, history)
  for (const [index, clientId] of AUTHOR_CLIENT_IDS.entries()) {
    await client.query(
      `insert into client_ids (document_name, client_id, user_id) values ($1, $2, $3)
       on conflict do nothing`,
      [documentName, clientId, AUTHOR_IDS[index]],
    )
  }
  const messages = await indexMessages(client, history)
  await client.query('commit')
  console.log(JSON.stringify({ snapshotBytes, messages }))
} finally {
  await client.end()
}

async function mergeIntoSnapshot(db: pg.Client, update: Uint8Array): Promise<number> {
  const rows = await db.query<{ data: Buffer }>(
    'select data from document_updates where name = $1 order by seq',
    [documentName],
  )
  const stored = await db.query<{ snapshot: Buffer | null }>(
    'select snapshot from documents where name = $1',
    [documentName],
  )
  const parts: Uint8Array[] = []
  const snapshot = stored.rows[0]?.snapshot
  if (snapshot) parts.push(snapshot)
  for (const row of rows.rows) parts.push(row.data)
  parts.push(update)
  const merged = Y.mergeUpdates(parts)
  await db.query(
    `insert into documents (name, snapshot, updated_at) values ($1, $2, now())
     on conflict (name) do update set snapshot = excluded.snapshot, updated_at = now()`,
    [documentName, Buffer.from(merged.buffer, merged.byteOffset, merged.byteLength)],
  )
  await db.query('delete from document_updates where name = $1', [documentName])
  return merged.length
}

async function indexMessages(db: pg.Client, update: Uint8Array): Promise<number> {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  const ids: string[] = []
  const authors: string[] = []
  for (const entry of messagesOf(doc)) {
    ids.push(String(entry.get('id')))
    authors.push(String(entry.get('authorId')))
  }
  for (let start = 0; start < ids.length; start += INDEX_BATCH) {
    await db.query(
      `insert into message_index (conversation_id, message_id, author_id)
       select $1, id, author from unnest($2::text[], $3::text[]) as m(id, author)`,
      [
        conversationId,
        ids.slice(start, start + INDEX_BATCH),
        authors.slice(start, start + INDEX_BATCH),
      ],
    )
  }
  return ids.length
}

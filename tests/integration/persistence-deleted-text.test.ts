import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteMessage, editMessage, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import {
  createApiUser,
  createGroup,
  openDocument,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { unpackUpdate } from '../../sync-server/persistence/update-codec.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

describe.each(['pglite', 'postgres'] as const)('deleted text on %s', (kind) => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer({ database: kind })
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  /**
   * Returns every stored byte that could hold a document's content, as one buffer per row.
   * Compressed update rows are unpacked, since their text would not show in the raw bytes.
   */
  async function storedRows(name: string): Promise<Buffer[]> {
    const db = server.server.services.db
    const updates = await db
      .selectFrom('document_updates')
      .select(['data', 'codec'])
      .where('name', '=', name)
      .execute()
    const snapshots = await db
      .selectFrom('documents')
      .select('snapshot')
      .where('name', '=', name)
      .execute()
    const conversations = await sql<{
      row: string
    }>`select c::text as row from conversations c`.execute(db)
    return [
      ...updates.map((row) => Buffer.from(unpackUpdate(row.data, row.codec))),
      ...snapshots.flatMap((row) => (row.snapshot ? [Buffer.from(row.snapshot)] : [])),
      ...conversations.rows.map((row) => Buffer.from(row.row)),
    ]
  }

  it('leaves no row with deleted or replaced text after compaction', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const name = conversationDocumentName(group.id)
    const client = openDocument(server.url, ana.token, name)
    await waitForSync(client)

    const deleted = sendMessage(client.doc, { authorId: ana.user.id, text: 'deleted-secret-4711' })
    const edited = sendMessage(client.doc, { authorId: ana.user.id, text: 'first-draft-0815' })
    sendMessage(client.doc, { authorId: ana.user.id, text: 'kept-visible-1234' })
    await waitForAcknowledged(client)
    expect(deleteMessage(client.doc, { messageId: deleted.id, userId: ana.user.id })).toEqual({
      ok: true,
    })
    expect(
      editMessage(client.doc, {
        messageId: edited.id,
        userId: ana.user.id,
        text: 'final-text-0816',
      }),
    ).toEqual({ ok: true })
    await waitForAcknowledged(client)
    // Let the preview of the conversation list catch up before reading the rows.
    await new Promise((resolve) => setTimeout(resolve, 500))

    const before = await storedRows(name)
    expect(before.some((row) => row.includes('deleted-secret-4711'))).toBe(true)

    await server.server.services.documents.compact(name)
    const after = await storedRows(name)
    expect(after.some((row) => row.includes('deleted-secret-4711'))).toBe(false)
    expect(after.some((row) => row.includes('first-draft-0815'))).toBe(false)
    expect(after.some((row) => row.includes('final-text-0816'))).toBe(true)
    expect(after.some((row) => row.includes('kept-visible-1234'))).toBe(true)
    client.destroy()
  })
})

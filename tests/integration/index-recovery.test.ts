import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Conversation } from '../../shared/api.ts'
import { sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { openDatabase } from '../../sync-server/persistence/database.ts'
import { DocumentStore } from '../../sync-server/persistence/document-store.ts'
import {
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

describe('message index recovery at start', () => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer({ database: 'postgres' })
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  const unreadCount = async (user: ApiUser, conversationId: string) => {
    const response = await user.request<{ conversations: Conversation[] }>(
      'GET',
      '/api/conversations',
    )
    return response.body.conversations.find((c) => c.id === conversationId)?.unreadCount
  }

  it('indexes messages that a crash left out', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const name = conversationDocumentName(group.id)
    const writer = openDocument(server.url, ana.token, name)
    await waitForSync(writer)
    for (const text of ['one', 'two', 'three']) {
      sendMessage(writer.doc, { authorId: ana.user.id, text })
    }
    await waitForAcknowledged(writer)
    await waitFor(async () => (await unreadCount(ben, group.id)) === 3, 'Ben to count 3 unread')
    const state = Y.encodeStateAsUpdate(writer.doc)
    writer.destroy()
    await server.stop()

    // What a server killed right after acknowledging leaves behind: the messages in update
    // rows that no compaction merged, and none of them in the message index.
    const { databaseUrl, dataDir } = server.database
    const direct = await openDatabase({ databaseUrl, dataDir })
    try {
      await direct.db
        .deleteFrom('message_batches')
        .where('conversation_id', '=', group.id)
        .execute()
      await new DocumentStore(direct.db).append([{ name, data: state }])
    } finally {
      await direct.close()
    }
    await server.start()

    // No client opens the conversation, so only the recovery at start can index it.
    await waitFor(async () => (await unreadCount(ben, group.id)) === 3, 'Ben to count 3 again')
    expect(await unreadCount(ben, group.id)).toBe(3)
  })
})

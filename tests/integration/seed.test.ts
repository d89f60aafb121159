import { afterAll, beforeAll, expect, it } from 'vitest'
import { listMessages, listReactions } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { seed } from '../../scripts/seed.ts'
import { openDocument, waitForSync } from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let server: TestServer

beforeAll(async () => {
  server = await startTestServer({ database: 'postgres' })
})
afterAll(async () => {
  await server.stop()
  await server.database.drop()
})

it('fills a conversation through the write path', async () => {
  const result = await seed({ url: server.url, messages: 600, users: 3, batch: 50 })
  expect(result.messages).toBe(600)

  const reader = openDocument(
    server.url,
    result.users[1]!.token,
    conversationDocumentName(result.conversationId as never),
  )
  await waitForSync(reader)
  const messages = listMessages(reader.doc)
  expect(messages).toHaveLength(600)
  expect(messages.filter((message) => message.deleted)).toHaveLength(result.deletions)
  expect(messages.filter((message) => message.editedAt !== undefined)).toHaveLength(result.edits)
  const reacted = [...listReactions(reader.doc).values()].length
  expect(reacted).toBe(result.reactions)
  const authors = new Set(messages.map((message) => message.authorId))
  expect(authors.size).toBe(3)
  reader.destroy()
})

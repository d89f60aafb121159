import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ChatMessage, listMessages, listReactions } from '../../shared/chat-document.ts'
import { segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId } from '../../shared/ids.ts'
import { seed } from '../../scripts/seed.ts'
import { captureConsoleErrors, refusalLogPattern } from '../helpers/console-errors.ts'
import { openDocument, type SyncClient, waitForSync } from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** Messages per history segment on the test server, so that the seed fills several. */
const SEGMENT_MESSAGES = 100

let server: TestServer
const readers: SyncClient[] = []

beforeAll(async () => {
  server = await startTestServer({
    database: 'postgres',
    config: { segmentMessages: SEGMENT_MESSAGES },
  })
})
afterAll(async () => {
  for (const reader of readers) reader.destroy()
  await server.stop()
  await server.database.drop()
})

it('fills a conversation through the write path, across segments', async () => {
  // A batch written just before the server announces the next segment is rejected and
  // written again, and Hocuspocus logs each rejection.
  const consoleErrors = captureConsoleErrors()
  const result = await seed({ url: server.url, messages: 600, users: 3, batch: 50 })
  consoleErrors.restore()
  expect(result.messages).toBe(600)
  expect(result.segments).toBeGreaterThan(2)

  const messages: ChatMessage[] = []
  const perSegment: number[] = []
  let reacted = 0
  for (let segment = 0; segment < result.segments; segment++) {
    const name = segmentDocumentName(result.conversationId as ConversationId, segment)
    const reader = openDocument(server.url, result.users[1]!.token, name)
    readers.push(reader)
    await waitForSync(reader)
    const inSegment = listMessages(reader.doc)
    perSegment.push(inSegment.length)
    messages.push(...inSegment)
    reacted += [...listReactions(reader.doc).values()].length
  }

  expect(messages).toHaveLength(600)
  // Deleted messages have no text left, so the order is checked on the others.
  const numbers = messages
    .filter((message) => !message.deleted)
    .map((message) => Number(/^Message (\d+)/.exec(message.text)?.[1]))
  expect(numbers.filter((number) => Number.isNaN(number))).toEqual([])
  expect(isAscending(numbers)).toBe(true)
  expect(perSegment.slice(0, -1).every((count) => count >= SEGMENT_MESSAGES)).toBe(true)
  expect(messages.filter((message) => message.deleted)).toHaveLength(result.deletions)
  expect(messages.filter((message) => message.editedAt !== undefined)).toHaveLength(result.edits)
  expect(reacted).toBe(result.reactions)
  const authors = new Set(messages.map((message) => message.authorId))
  expect(authors.size).toBe(3)
  const refusal = refusalLogPattern(['invalid_update'])
  expect(consoleErrors.lines.filter((line) => !refusal.test(line))).toEqual([])
})

function isAscending(numbers: number[]): boolean {
  return numbers.every((number, index) => index === 0 || number > numbers[index - 1]!)
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import {
  createApiUser,
  createGroup,
  openDocument,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

describe.each(['pglite', 'postgres'] as const)('live sync on %s', (kind) => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer({ database: kind })
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  it('relays messages and keeps them over a restart', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const name = conversationDocumentName(group.id)

    const anaClient = openDocument(server.url, ana.token, name)
    const benClient = openDocument(server.url, ben.token, name)
    await waitForSync(anaClient)
    await waitForSync(benClient)

    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'hello Ben' })
    await waitFor(() => listMessages(benClient.doc).length === 1, 'Ben to receive the message')
    sendMessage(benClient.doc, { authorId: ben.user.id, text: 'hi Ana' })
    await waitFor(() => listMessages(anaClient.doc).length === 2, 'Ana to receive the reply')
    await waitForAcknowledged(anaClient)
    await waitForAcknowledged(benClient)
    anaClient.destroy()
    benClient.destroy()

    await server.restart()
    const fresh = openDocument(server.url, ben.token, name, new Y.Doc())
    await waitForSync(fresh)
    expect(listMessages(fresh.doc).map((message) => message.text)).toEqual(['hello Ben', 'hi Ana'])
    fresh.destroy()
  })
})

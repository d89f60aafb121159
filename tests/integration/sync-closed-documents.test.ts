import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { createApiUser, createGroup } from '../helpers/clients.ts'
import { captureConsoleErrors, refusalLogPattern } from '../helpers/console-errors.ts'
import { changeOf, replicaOf } from '../helpers/forged-updates.ts'
import { RawSyncClient, SyncStep } from '../helpers/raw-sync.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

describe('messages for a document the server closed', () => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer()
  })

  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  // A provider can send more messages before it learns that the server closed its document.
  // Hocuspocus 4.7 queued them and replayed them on the socket's next connection to the
  // document, which the server then closed for the dropped provider's update.
  it('drops an update sent after the close', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const name = conversationDocumentName(group.id)
    const client = await RawSyncClient.open(server.url, name, ben.token)
    await client.pull()
    const forged = (text: string, clientId: number) =>
      changeOf(replicaOf(client.doc, clientId), (doc) => {
        sendMessage(doc, { authorId: ana.user.id, text })
      })
    const consoleErrors = captureConsoleErrors()

    const refused = await client.sendUpdate(forged('forged first', 0x1234567))
    client.sendSync(SyncStep.Update, forged('forged late', 0x2345678))
    const authenticated = await client.authenticate(ben.token)
    await client.pull()
    const own = changeOf(client.doc, (doc) => {
      sendMessage(doc, { authorId: ben.user.id, text: 'after the close' })
    })
    const outcome = await client.sendUpdate(own)
    consoleErrors.restore()

    expect(refused).toEqual({ kind: 'closed', reason: 'invalid_update' })
    expect(authenticated).toBe('authenticated')
    expect(outcome).toEqual({ kind: 'acknowledged', applied: true })
    expect(client.closes).toEqual(['invalid_update'])
    expect(listMessages(client.doc).map((message) => message.text)).toEqual(['after the close'])
    const refusal = refusalLogPattern(['invalid_update'])
    expect(consoleErrors.lines.filter((line) => !refusal.test(line))).toEqual([])
    client.close()
  })

  // A provider destroyed and created again sends Close and then Auth. Hocuspocus 4.7 handles
  // a connection's messages in turn, so while an update waited for its commit, the Auth
  // reached the closing connection, which took it for a token refresh and sent no reply.
  it('opens a document again right after a close', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const group = await createGroup(ana, [])
    const name = conversationDocumentName(group.id)
    const client = await RawSyncClient.open(server.url, name, ana.token)
    await client.pull()
    const first = changeOf(client.doc, (doc) => {
      sendMessage(doc, { authorId: ana.user.id, text: 'before the close' })
    })

    client.sendSync(SyncStep.Update, first)
    client.sendClose()
    const authenticated = await client.authenticate(ana.token)
    await client.pull()
    const second = changeOf(client.doc, (doc) => {
      sendMessage(doc, { authorId: ana.user.id, text: 'after the close' })
    })
    const outcome = await client.sendUpdate(second)
    const reader = await RawSyncClient.open(server.url, name, ana.token)
    await reader.pull()

    expect(authenticated).toBe('authenticated')
    expect(outcome).toEqual({ kind: 'acknowledged', applied: true })
    expect(client.closes).toEqual(['provider_initiated'])
    expect(listMessages(reader.doc).map((message) => message.text)).toEqual([
      'before the close',
      'after the close',
    ])
    client.close()
    reader.close()
  })
})

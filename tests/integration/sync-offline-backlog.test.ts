import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import {
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { changeOf } from '../helpers/forged-updates.ts'
import { RawSyncClient, SyncStep } from '../helpers/raw-sync.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** Limits of the server under test, small so that a backlog over them builds quickly. */
const MAX_UPDATE_BYTES = 64 * 1024
const MAX_SYNC_STEP_BYTES = 512 * 1024
/** Text of each message written offline: near the 16 KiB maximum of one message. */
const LONG_TEXT = 'x'.repeat(15_000)

describe('an offline backlog', () => {
  let server: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    server = await startTestServer({
      database: 'pglite',
      config: { maxUpdateBytes: MAX_UPDATE_BYTES, maxSyncStepBytes: MAX_SYNC_STEP_BYTES },
    })
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  const open = (token: string, name: string, doc?: Y.Doc) => {
    const client = openDocument(server.url, token, name, doc)
    clients.push(client)
    return client
  }

  /**
   * Syncs Ana's copy of a new group once, writes `count` long messages into it without a
   * connection, and connects it again, so that its sync step carries all of them.
   */
  async function reconnectWithBacklog(count: number) {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const name = conversationDocumentName((await createGroup(ana, [ben])).id)
    const first = open(ana.token, name)
    await waitForSync(first)
    first.destroy()
    const doc = first.doc
    for (let index = 0; index < count; index++) {
      sendMessage(doc, { authorId: ana.user.id, text: `${index} ${LONG_TEXT}` })
    }
    const backlogBytes = Y.encodeStateAsUpdate(doc).length
    return { ben, name, backlogBytes, writer: open(ana.token, name, doc) }
  }

  it('stores a backlog over the update limit', async () => {
    const { ben, name, backlogBytes, writer } = await reconnectWithBacklog(20)
    await waitForAcknowledged(writer)
    const reader = open(ben.token, name)
    await waitForSync(reader)

    expect(backlogBytes).toBeGreaterThan(MAX_UPDATE_BYTES)
    expect(backlogBytes).toBeLessThan(MAX_SYNC_STEP_BYTES)
    expect(writer.closes).toEqual([])
    expect(listMessages(reader.doc)).toHaveLength(20)
  })

  it('allows the larger limit once per connection', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const name = conversationDocumentName((await createGroup(ana, [ben])).id)
    const raw = await RawSyncClient.open(server.url, name, ana.token)
    await raw.pull()
    const backlog = (count: number) =>
      changeOf(raw.doc, (doc) => {
        for (let index = 0; index < count; index++) {
          sendMessage(doc, { authorId: ana.user.id, text: `${index} ${LONG_TEXT}` })
        }
      })

    const first = await raw.sendUpdate(backlog(20), SyncStep.Step2)
    const second = await raw.sendUpdate(backlog(20), SyncStep.Step2)
    raw.close()

    expect(first).toEqual({ kind: 'acknowledged', applied: true })
    expect(second).toEqual({ kind: 'closed', reason: 'too_large' })
  })

  it('refuses a backlog over the sync step limit', async () => {
    const { ben, name, backlogBytes, writer } = await reconnectWithBacklog(40)
    await waitFor(() => writer.closes.length > 0, 'the server to close the document')
    const reader = open(ben.token, name)
    await waitForSync(reader)

    expect(backlogBytes).toBeGreaterThan(MAX_SYNC_STEP_BYTES)
    expect(writer.closes).toEqual(['too_large'])
    expect(listMessages(reader.doc)).toEqual([])
  })
})

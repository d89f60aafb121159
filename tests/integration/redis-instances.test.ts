import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { REDIS_URL } from '../helpers/databases.ts'
import { storedTexts } from '../helpers/chat-fixtures.ts'
import {
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { UpdateRelay } from '../../sync-server/sync/redis-extension.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

/** Time a closed client gets to receive a message that it must not receive. */
const SETTLE_MS = 300

const textsOf = (client: SyncClient) => listMessages(client.doc).map((message) => message.text)

describe('two instances linked by Redis', () => {
  let first: TestServer
  let second: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    first = await startTestServer({ database: 'postgres', redisUrl: REDIS_URL })
    second = await startTestServer({ database: first.database, redisUrl: REDIS_URL })
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await second.stop()
    await first.stop()
    await first.database.drop()
  })

  const open = (instance: TestServer, token: string, name: string) => {
    const client = openDocument(instance.url, token, name)
    clients.push(client)
    return client
  }

  /** Creates a group of Ana (admin) and Ben, with Ana on the first instance and Ben on the second. */
  const groupAcrossInstances = async () => {
    const ana = await createApiUser(first.url, 'ana')
    const ben = await createApiUser(first.url, 'ben')
    const group = await createGroup(ana, [ben])
    const name = conversationDocumentName(group.id)
    const anaClient = open(first, ana.token, name)
    const benClient = open(second, ben.token, name)
    await waitForSync(anaClient)
    await waitForSync(benClient)
    return { ana, ben, group, name, anaClient, benClient }
  }

  it('relays messages live both ways', async () => {
    const { ana, ben, name, anaClient, benClient } = await groupAcrossInstances()

    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'from the first instance' })
    await waitFor(() => textsOf(benClient).length === 1, 'Ben to receive the message')
    sendMessage(benClient.doc, { authorId: ben.user.id, text: 'from the second instance' })
    await waitFor(() => textsOf(anaClient).length === 2, 'Ana to receive the reply')
    await waitForAcknowledged(anaClient)
    await waitForAcknowledged(benClient)

    const expected = ['from the first instance', 'from the second instance']
    expect(textsOf(benClient)).toEqual(expected)
    expect(textsOf(anaClient)).toEqual(expected)
    expect(await storedTexts(first.server.services.documents, name)).toEqual(expected)
  })

  it('stores each relayed update once', async () => {
    const { ana, name, anaClient, benClient } = await groupAcrossInstances()
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    // The server's own rows, such as the group's created event, are there before the message.
    const before = await first.server.services.documents.pendingUpdateCount(name)

    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'stored by one instance' })
    await waitFor(() => textsOf(benClient).length === 1, 'Ben to receive the message')
    await waitForAcknowledged(anaClient)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const rows = await first.server.services.documents.pendingUpdateCount(name)

    expect(rows - before).toBe(1)
  })

  it('repairs an update that Redis dropped', async () => {
    const { ana, name, anaClient, benClient } = await groupAcrossInstances()
    const relay = second.server.engine.hocuspocus.configuration.extensions.find(
      (extension) => extension instanceof UpdateRelay,
    )
    if (!relay) throw new Error('the second instance has no Redis relay')
    const channel = `hocuspocus:${name}`

    // The second instance misses the first message, as during a Redis reconnect.
    await relay.sub.unsubscribe(channel)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'dropped on the way' })
    await waitForAcknowledged(anaClient)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    expect(textsOf(benClient)).toEqual([])
    await relay.sub.subscribe(channel)

    // The next update depends on the dropped one, so the second instance requests the state.
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'relayed' })
    await waitFor(() => textsOf(benClient).length === 2, 'Ben to receive both messages')

    expect(textsOf(benClient)).toEqual(['dropped on the way', 'relayed'])
  })

  it('removes a departed client from presence on the other instance', async () => {
    const { ana, ben, name, anaClient } = await groupAcrossInstances()
    const watcher = open(second, ben.token, name)
    await waitForSync(watcher)
    anaClient.provider.awareness?.setLocalState({
      user: { id: ana.user.id, name: 'Ana' },
      typing: true,
    })
    const anaClientId = anaClient.doc.clientID
    await waitFor(
      () => watcher.provider.awareness?.getStates().get(anaClientId)?.typing === true,
      'Ben to see Ana typing',
    )

    anaClient.destroy()

    // y-protocols would drop the state only after 30 s without a renewal.
    await waitFor(
      () => !watcher.provider.awareness?.getStates().has(anaClientId),
      "Ana's state to leave Ben's view",
    )
    const serverStates = second.server.engine.hocuspocus.documents.get(name)?.awareness.getStates()
    expect(serverStates?.has(anaClientId)).toBe(false)
  })

  it('serves a late joiner on the other instance', async () => {
    const { ana, ben, name, anaClient } = await groupAcrossInstances()
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'before Ben reopened' })
    await waitForAcknowledged(anaClient)

    const late = open(second, ben.token, name)
    await waitForSync(late)

    expect(textsOf(late)).toEqual(['before Ben reopened'])
  })

  it("closes a removed member's connection on the other instance", async () => {
    const { ana, ben, group, anaClient, benClient } = await groupAcrossInstances()

    const removal = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/members/${ben.user.id}`,
    )
    await waitFor(() => benClient.closes.length > 0, 'the second instance to close Ben')
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'after Ben left' })
    await waitForAcknowledged(anaClient)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

    expect(removal.status).toBe(204)
    expect(benClient.closes).toEqual(['forbidden'])
    expect(anaClient.closes).toEqual([])
    expect(textsOf(benClient)).toEqual([])
  })

  it('closes a deleted conversation on the other instance', async () => {
    const { ana, group, benClient } = await groupAcrossInstances()

    const deletion = await ana.request('DELETE', `/api/conversations/${group.id}`)
    await waitFor(() => benClient.closes.length > 0, 'the second instance to close Ben')

    expect(deletion.status).toBe(204)
    expect(benClient.closes).toEqual(['conversation_deleted'])
  })
})

describe('two instances after a Redis outage', () => {
  let first: TestServer
  let second: TestServer
  let proxy: TcpProxy
  const clients: SyncClient[] = []

  beforeAll(async () => {
    const target = new URL(REDIS_URL)
    proxy = await startTcpProxy(target.hostname, Number(target.port || 6379))
    const proxied = new URL(REDIS_URL)
    proxied.host = `127.0.0.1:${proxy.port}`
    first = await startTestServer({ database: 'postgres', redisUrl: REDIS_URL })
    second = await startTestServer({ database: first.database, redisUrl: proxied.toString() })
  })
  afterEach(() => {
    proxy.restore()
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await second.stop()
    await first.stop()
    await proxy.close()
    await first.database.drop()
  })

  it('catches up on what the other instance published meanwhile', async () => {
    const ana = await createApiUser(first.url, 'ana')
    const ben = await createApiUser(first.url, 'ben')
    const name = conversationDocumentName((await createGroup(ana, [ben])).id)
    const anaClient = openDocument(first.url, ana.token, name)
    const benClient = openDocument(second.url, ben.token, name)
    clients.push(anaClient, benClient)
    await waitForSync(anaClient)
    await waitForSync(benClient)
    const relay = second.server.engine.hocuspocus.configuration.extensions.find(
      (extension) => extension instanceof UpdateRelay,
    )
    if (!relay) throw new Error('the second instance has no Redis relay')

    proxy.cut()
    await waitFor(() => relay.sub.status !== 'ready', "the second instance's Redis link to drop")
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'sent during the outage' })
    await waitForAcknowledged(anaClient)
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const receivedDuringOutage = textsOf(benClient)
    proxy.restore()

    // Nothing is sent after the outage, so no later update reveals the gap.
    await waitFor(
      () => textsOf(benClient).length === 1,
      'Ben to receive the message after the outage',
    )
    expect(receivedDuringOutage).toEqual([])
    expect(textsOf(benClient)).toEqual(['sent during the outage'])
  })
})

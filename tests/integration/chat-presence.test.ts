import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { AWARENESS_INTERVAL_MS } from '../../sync-server/sync/presence-policy.ts'
import {
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitFor,
  waitForSync,
} from '../helpers/clients.ts'
import { RawSyncClient } from '../helpers/raw-sync.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

type State = Record<string, unknown> & { user?: { id?: string; name?: string }; typing?: boolean }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Records every state that a watcher's awareness has for one client, in order. */
function recordStates(watcher: Awareness, clientId: number): State[] {
  const seen: State[] = []
  watcher.on('change', () => {
    const state = watcher.getStates().get(clientId)
    if (state) seen.push(structuredClone(state))
  })
  return seen
}

describe('presence through awareness', () => {
  let server: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    server = await startTestServer()
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  /** Opens a new group's document for two members and returns their awareness. */
  const pair = async (first: ApiUser, second: ApiUser) => {
    const group = await createGroup(first, [second])
    return pairIn(conversationDocumentName(group.id), first, second)
  }

  /** Opens a document for two members and returns their awareness. */
  const pairIn = async (name: string, first: ApiUser, second: ApiUser) => {
    const sender = openDocument(server.url, first.token, name)
    const watcher = openDocument(server.url, second.token, name)
    clients.push(sender, watcher)
    await waitForSync(sender)
    await waitForSync(watcher)
    const senderAwareness = sender.provider.awareness
    const watcherAwareness = watcher.provider.awareness
    if (!senderAwareness || !watcherAwareness) throw new Error('the providers have no awareness')
    return { sender: senderAwareness, watcher: watcherAwareness }
  }

  it('drops presence under another user id', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const { sender, watcher } = await pair(ana, ben)
    const seen = recordStates(watcher, sender.clientID)

    sender.setLocalState({ user: { id: ben.user.id, name: 'Ben' }, typing: true })
    await sleep(AWARENESS_INTERVAL_MS + 100)
    sender.setLocalState({ user: { id: ana.user.id, name: 'Ana' }, typing: false })
    await waitFor(
      () => watcher.getStates().get(sender.clientID)?.user?.id === ana.user.id,
      "Ana's own presence to arrive",
    )

    expect(seen.map((state) => state.user?.id)).not.toContain(ben.user.id)
    expect(watcher.getStates().get(sender.clientID)).toEqual({
      user: { id: ana.user.id, name: 'Ana' },
      typing: false,
    })
  })

  it('keeps another user from taking over a client id', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const eve = await createApiUser(server.url, 'eve')
    const group = await createGroup(ana, [ben, eve])
    const name = conversationDocumentName(group.id)
    const { sender, watcher } = await pairIn(name, ana, ben)
    sender.setLocalState({ user: { id: ana.user.id, name: 'Ana' }, typing: false })
    await waitFor(
      () => watcher.getStates().get(sender.clientID)?.user?.id === ana.user.id,
      "Ana's presence to arrive",
    )

    // Eve writes a newer state for Ana's client id, which would replace Ana's everywhere.
    const forgedDoc = new Y.Doc()
    forgedDoc.clientID = sender.clientID
    const forged = new Awareness(forgedDoc)
    for (let round = 0; round < 10; round++) {
      forged.setLocalState({ user: { id: eve.user.id, name: 'Eve' }, typing: round % 2 === 0 })
    }
    const raw = await RawSyncClient.open(server.url, name, eve.token)
    raw.sendAwareness(encodeAwarenessUpdate(forged, [sender.clientID]))
    await sleep(AWARENESS_INTERVAL_MS + 200)
    raw.close()

    expect(watcher.getStates().get(sender.clientID)).toEqual({
      user: { id: ana.user.id, name: 'Ana' },
      typing: false,
    })
  })

  it('keeps only the presence fields', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const { sender, watcher } = await pair(ana, ben)

    sender.setLocalState({
      user: { id: ana.user.id, name: 'A'.repeat(500), email: 'ana@example.com' },
      typing: 'yes',
      cursor: { index: 4 },
    })
    await waitFor(() => watcher.getStates().has(sender.clientID), "Ana's presence to arrive")

    expect(watcher.getStates().get(sender.clientID)).toEqual({
      user: { id: ana.user.id, name: 'A'.repeat(64) },
      typing: false,
    })
  })

  it('forwards no state without a user', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const { sender, watcher } = await pair(ana, ben)

    sender.setLocalState({ user: { id: ana.user.id, name: 'Ana' }, typing: false })
    await waitFor(() => watcher.getStates().has(sender.clientID), "Ana's presence to arrive")

    const others = [...watcher.getStates()].filter(([clientId]) => clientId !== watcher.clientID)
    expect(others.map(([clientId]) => clientId)).toEqual([sender.clientID])
  })

  it('drops updates within the interval except one that stops typing', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const { sender, watcher } = await pair(ana, ben)
    const seen = recordStates(watcher, sender.clientID)
    const user = { id: ana.user.id, name: 'Ana' }
    sender.setLocalState({ user, typing: false })
    await waitFor(() => seen.length > 0, "Ana's first presence to arrive")
    await sleep(AWARENESS_INTERVAL_MS + 100)

    // Sent in one turn, so the rename reaches the server well within the interval.
    sender.setLocalState({ user, typing: true })
    sender.setLocalState({ user: { id: ana.user.id, name: 'Renamed' }, typing: true })
    await waitFor(() => seen.some((state) => state.typing === true), 'typing to reach Ben')
    // Sent as soon as typing reaches Ben, so still within the interval.
    sender.setLocalState({ user, typing: false })
    await waitFor(
      () => seen.filter((state) => state.typing === false).length >= 2,
      'typing to stop at Ben',
    )

    expect(seen.map((state) => [state.user?.name, state.typing])).toEqual([
      ['Ana', false],
      ['Ana', true],
      ['Ana', false],
    ])
  })
})

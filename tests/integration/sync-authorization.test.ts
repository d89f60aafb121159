import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName, userDocumentName } from '../../shared/document-names.ts'
import { messagesUpdate, storedTexts, isEmptyDoc } from '../helpers/chat-fixtures.ts'
import {
  API_USER_PASSWORD,
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  requestJson,
  type SyncClient,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { upgradeStatus } from '../helpers/upgrade.ts'

const ALLOWED_ORIGIN = 'http://parley.test'
const SEEDED_TEXTS = ['first stored message', 'second stored message']

/** Time a closed or refused client gets to receive a message that it must not receive. */
const SETTLE_MS = 200

describe('sync authorization', () => {
  let server: TestServer
  const clients: SyncClient[] = []

  beforeAll(async () => {
    server = await startTestServer({ config: { publicOrigins: [ALLOWED_ORIGIN] } })
  })
  afterEach(() => {
    vi.restoreAllMocks()
    for (const client of clients.splice(0)) client.destroy()
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  const open = (token: string, name: string): SyncClient => {
    const client = openDocument(server.url, token, name)
    clients.push(client)
    return client
  }

  const isLoaded = (name: string) => server.server.engine.hocuspocus.documents.has(name)

  /** Creates a group of Ana (admin) and Ben whose document contains messages the server never loaded. */
  const seededGroup = async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const group = await createGroup(ana, [ben])
    const name = conversationDocumentName(group.id)
    await server.server.services.documents.append([
      { name, data: messagesUpdate(ana.user.id, SEEDED_TEXTS) },
    ])
    return { ana, ben, group, name }
  }

  const takeToken = async (user: ApiUser): Promise<string> => {
    const response = await requestJson<{ token: string }>(server.url, 'POST', '/api/auth/token', {
      body: { username: user.user.username, password: API_USER_PASSWORD },
    })
    if (response.status !== 201) throw new Error(`token failed: ${JSON.stringify(response.body)}`)
    return response.body.token
  }

  const logout = async (token: string): Promise<number> => {
    const response = await requestJson(server.url, 'POST', '/api/auth/logout', { token })
    return response.status
  }

  const waitForRefusal = (client: SyncClient) =>
    waitFor(() => client.refusals.length > 0, 'the server to refuse the document')

  const waitForClose = (client: SyncClient) =>
    waitFor(() => client.closes.length > 0, 'the server to close the document')

  const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

  describe('refused opens', () => {
    const cases: {
      title: string
      reason: string
      tokenOf: (users: { ana: ApiUser; stranger: ApiUser }) => Promise<string>
    }[] = [
      {
        title: 'a bad token',
        reason: 'not_authenticated',
        tokenOf: () => Promise.resolve('not-a-session-token'),
      },
      { title: 'no token', reason: 'not_authenticated', tokenOf: () => Promise.resolve('') },
      {
        title: 'a logged-out token',
        reason: 'not_authenticated',
        tokenOf: async ({ ana }) => {
          const token = await takeToken(ana)
          if ((await logout(token)) !== 204) throw new Error('logout failed')
          return token
        },
      },
      {
        title: 'a non-member',
        reason: 'forbidden',
        tokenOf: ({ stranger }) => Promise.resolve(stranger.token),
      },
    ]

    it.each(cases)('refuses $title with $reason', async ({ reason, tokenOf }) => {
      const { ana, name } = await seededGroup()
      const stranger = await createApiUser(server.url, 'stranger')
      const token = await tokenOf({ ana, stranger })
      const store = server.server.services.documents
      const load = vi.spyOn(store, 'loadParts')

      const client = open(token, name)
      sendMessage(client.doc, { authorId: stranger.user.id, text: 'written while refused' })
      const localState = client.doc.store.clients.size
      await waitForRefusal(client)
      await settle()

      expect(client.refusals).toEqual([reason])
      expect(client.doc.store.clients.size).toBe(localState)
      expect(listMessages(client.doc).map((message) => message.text)).toEqual([
        'written while refused',
      ])
      expect(isLoaded(name)).toBe(false)
      expect(load).not.toHaveBeenCalledWith(name)
      expect(await storedTexts(store, name)).toEqual(SEEDED_TEXTS)
    })

    it('sends a refused client no document bytes', async () => {
      const { name } = await seededGroup()
      const stranger = await createApiUser(server.url, 'stranger')

      const client = open(stranger.token, name)
      await waitForRefusal(client)
      await settle()

      expect(client.refusals).toEqual(['forbidden'])
      expect(isEmptyDoc(client.doc)).toBe(true)
      expect(client.provider.isSynced).toBe(false)
    })
  })

  it('syncs a member with the stored history', async () => {
    const { ben, name } = await seededGroup()
    const client = open(ben.token, name)
    await waitForSync(client)

    expect(client.refusals).toEqual([])
    expect(listMessages(client.doc).map((message) => message.text)).toEqual(SEEDED_TEXTS)
    expect(isLoaded(name)).toBe(true)
  })

  it('opens a user document to its owner only', async () => {
    const ana = await createApiUser(server.url, 'ana')
    const ben = await createApiUser(server.url, 'ben')
    const name = userDocumentName(ana.user.id)

    const owner = open(ana.token, name)
    await waitForSync(owner)
    const other = open(ben.token, name)
    await waitForRefusal(other)

    expect(owner.refusals).toEqual([])
    expect(other.refusals).toEqual(['forbidden'])
  })

  it.each([
    ['a bare word', 'general'],
    ['an unknown prefix', 'room:abcdefgh12345678'],
    ['a conversation id too short', 'conv:abc'],
    ['an upper-case id', 'conv:ABCDEFGH12345678'],
    ['a trailing part', 'conv:abcdefgh12345678:extra'],
    ['a segment number with a leading zero', 'conv:abcdefgh12345678:seg:01'],
    ['a path in the id', 'user:../abcdefgh12345678'],
  ])('refuses a document name with %s', async (_title, name) => {
    const ana = await createApiUser(server.url, 'ana')
    const client = open(ana.token, name)
    await waitForRefusal(client)

    expect(client.refusals).toEqual(['forbidden'])
    expect(isLoaded(name)).toBe(false)
  })

  it('closes a removed member with forbidden', async () => {
    const { ana, ben, group, name } = await seededGroup()
    const anaClient = open(ana.token, name)
    const benClient = open(ben.token, name)
    await waitForSync(anaClient)
    await waitForSync(benClient)

    const removal = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/members/${ben.user.id}`,
    )
    await waitForClose(benClient)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'after Ben left' })
    await waitForAcknowledged(anaClient)
    sendMessage(benClient.doc, { authorId: ben.user.id, text: 'Ben after removal' })
    await settle()

    expect(removal.status).toBe(204)
    expect(benClient.closes).toEqual(['forbidden'])
    expect(anaClient.closes).toEqual([])
    expect(listMessages(benClient.doc).map((message) => message.text)).not.toContain(
      'after Ben left',
    )
    expect(await storedTexts(server.server.services.documents, name)).toEqual([
      ...SEEDED_TEXTS,
      'after Ben left',
    ])
  })

  it('refuses a removed member who opens again', async () => {
    const { ana, ben, group, name } = await seededGroup()
    await ana.request('DELETE', `/api/conversations/${group.id}/members/${ben.user.id}`)

    const client = open(ben.token, name)
    await waitForRefusal(client)

    expect(client.refusals).toEqual(['forbidden'])
  })

  // Regression: a member removed while the server loaded the document for them was never
  // closed, because the connection was not registered yet when the close was applied.
  it('closes a member removed while the document loads', async () => {
    const { ana, ben, group, name } = await seededGroup()
    const store = server.server.services.documents
    const originalLoad = store.loadParts.bind(store)
    let releaseLoad = () => {}
    const loadGate = new Promise<void>((resolve) => (releaseLoad = resolve))
    const load = vi.spyOn(store, 'loadParts').mockImplementationOnce(async (documentName) => {
      await loadGate
      return originalLoad(documentName)
    })

    const benClient = open(ben.token, name)
    await waitFor(() => load.mock.calls.length > 0, 'the server to start loading the document')
    const removal = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/members/${ben.user.id}`,
    )
    releaseLoad()
    await waitForClose(benClient)
    const anaClient = open(ana.token, name)
    await waitForSync(anaClient)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'after Ben left' })
    await waitForAcknowledged(anaClient)
    await settle()

    expect(removal.status).toBe(204)
    expect(benClient.closes).toEqual(['forbidden'])
    expect(listMessages(benClient.doc).map((message) => message.text)).not.toContain(
      'after Ben left',
    )
  })

  it('closes a deleted conversation for every member', async () => {
    const { ana, ben, group, name } = await seededGroup()
    const anaClient = open(ana.token, name)
    const benClient = open(ben.token, name)
    await waitForSync(anaClient)
    await waitForSync(benClient)

    const deletion = await ana.request('DELETE', `/api/conversations/${group.id}`)
    await waitForClose(anaClient)
    await waitForClose(benClient)
    const reopened = open(ben.token, name)
    await waitForRefusal(reopened)

    expect(deletion.status).toBe(204)
    expect(anaClient.closes).toEqual(['conversation_deleted'])
    expect(benClient.closes).toEqual(['conversation_deleted'])
    expect(reopened.refusals).toEqual(['conversation_deleted'])
    expect(await server.server.services.documents.load(name)).toBeUndefined()
  })

  it("closes a logged-out session's documents only", async () => {
    const { ana, ben, name } = await seededGroup()
    const laptopToken = await takeToken(ben)
    const laptopConversation = open(laptopToken, name)
    const laptopUserDocument = open(laptopToken, userDocumentName(ben.user.id))
    const phone = open(ben.token, name)
    const anaClient = open(ana.token, name)
    await Promise.all(
      [laptopConversation, laptopUserDocument, phone, anaClient].map((client) =>
        waitForSync(client),
      ),
    )

    const status = await logout(laptopToken)
    await waitForClose(laptopConversation)
    await waitForClose(laptopUserDocument)
    sendMessage(anaClient.doc, { authorId: ana.user.id, text: 'after the logout' })
    await waitFor(
      () => listMessages(phone.doc).some((message) => message.text === 'after the logout'),
      'the phone to receive the message',
    )
    await settle()
    const reopened = open(laptopToken, name)
    await waitForRefusal(reopened)

    expect(status).toBe(204)
    expect(laptopConversation.closes).toEqual(['not_authenticated'])
    expect(laptopUserDocument.closes).toEqual(['not_authenticated'])
    expect(phone.closes).toEqual([])
    expect(listMessages(laptopConversation.doc).map((message) => message.text)).not.toContain(
      'after the logout',
    )
    expect(reopened.refusals).toEqual(['not_authenticated'])
  })

  describe('upgrades', () => {
    it('accepts /sync without an Origin', async () => {
      expect(await upgradeStatus(server.url, '/sync')).toBe(101)
    })

    it('accepts /sync from an allowed Origin', async () => {
      expect(await upgradeStatus(server.url, '/sync', { origin: ALLOWED_ORIGIN })).toBe(101)
    })

    it.each(['/', '/api/me', '/sync/extra', '/syncx'])(
      'rejects the path %s with 404',
      async (path) => {
        expect(await upgradeStatus(server.url, path)).toBe(404)
      },
    )

    it('rejects a foreign Origin with 403', async () => {
      expect(await upgradeStatus(server.url, '/sync', { origin: 'http://attacker.test' })).toBe(403)
    })

    it('rejects the literal Origin null with 403', async () => {
      expect(await upgradeStatus(server.url, '/sync', { origin: 'null' })).toBe(403)
    })
  })
})

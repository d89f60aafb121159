import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  deleteMessage,
  editMessage,
  findMessageEntry,
  listMessages,
  MAX_MESSAGE_BYTES,
  messagesOf,
  openSegment,
  sendMessage,
  setReadMarker,
  toggleReaction,
} from '../../shared/chat-document.ts'
import { conversationDocumentName, segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId, MessageId, UserId } from '../../shared/ids.ts'
import {
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import {
  anyContent,
  changeOf,
  type DocumentState,
  documentState,
  encodeUpdate,
  forgeItem,
  mapContent,
  replicaOf,
  updateState,
} from '../helpers/forged-updates.ts'
import {
  type CapturedErrors,
  captureConsoleErrors,
  refusalLogPattern,
} from '../helpers/console-errors.ts'
import { RawSyncClient, SyncStep, type SyncStepType } from '../helpers/raw-sync.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** Largest update the server accepts, as configured for this suite (the default). */
const MAX_UPDATE_BYTES = 1024 * 1024

/** What an attack may use: Mallory's synced view of the document and the ids in it. */
interface AttackContext {
  /** Mallory's copy of the server's document, as her raw client received it. */
  view: Y.Doc
  /** Returns a copy of `view` that writes under a client id no one has used. */
  replica(): Y.Doc
  alice: UserId
  mallory: UserId
  aliceMessageId: MessageId
  malloryMessageId: MessageId
  /** Client id of Alice's open provider, bound to Alice. */
  aliceClientId: number
  /** Client id of the server's copy of the document, bound to the server. */
  serverClientId: number
}

interface AttackCase {
  title: string
  reason: 'invalid_update' | 'client_id_taken' | 'too_large'
  /** How the bytes are sent: as an update message (the default) or as sync step 2. */
  step?: SyncStepType
  build: (context: AttackContext) => Uint8Array
}

let seed = 0x2545f491
/** Returns the next number of a fixed xorshift sequence, so random bytes repeat across runs. */
function nextRandom(): number {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return seed >>> 0
}

/** Returns a random client id in the range Yjs uses. */
function freshClientId(): number {
  return nextRandom() & 0x7fffffff
}

/** Returns the item that contains the current value of a map key. */
function currentItem(map: Y.Map<unknown>, key: string): Y.Item {
  const item = map._map.get(key)
  if (!item) throw new Error(`the map has no key ${key}`)
  return item
}

/** Returns the message map with an id, failing when the view lacks it. */
function entryOf(doc: Y.Doc, id: string): Y.Map<unknown> {
  const entry = findMessageEntry(doc, id)
  if (!entry) throw new Error(`message ${id} is missing`)
  return entry
}

/** Builds a message map of the given fields at the end of `messages`. */
function insertMessage(doc: Y.Doc, fields: Record<string, unknown>): void {
  const entry = new Y.Map<unknown>()
  for (const [key, value] of Object.entries(fields)) entry.set(key, value)
  const messages = messagesOf(doc)
  messages.insert(messages.length, [entry])
}

const messageFields = (authorId: string) => ({
  id: `msg${freshClientId()}abcdefgh`,
  authorId,
  text: 'forged',
  createdAt: Date.now(),
})

/** Builds an update of Mallory's own valid messages that is larger than `bytes`. */
function largeUpdate(context: AttackContext, bytes: number): Uint8Array {
  const replica = context.replica()
  const before = Y.encodeStateVector(replica)
  const text = 'x'.repeat(MAX_MESSAGE_BYTES - 100)
  while (Y.encodeStateAsUpdate(replica, before).length <= bytes) {
    sendMessage(replica, { authorId: context.mallory, text })
  }
  return Y.encodeStateAsUpdate(replica, before)
}

const ATTACKS: AttackCase[] = [
  {
    title: "an edit of another member's text",
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.aliceMessageId).set('text', 'edited')),
  },
  {
    title: "the author of another member's message changed",
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.aliceMessageId).set('authorId', c.mallory)),
  },
  {
    title: 'the author of her own message changed to another member',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.malloryMessageId).set('authorId', c.alice)),
  },
  {
    title: 'a message created as another member',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => sendMessage(doc, { authorId: c.alice, text: 'I am Alice' })),
  },
  {
    title: "a deletion of another member's message map",
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => {
        const index = messagesOf(doc)
          .toArray()
          .findIndex((entry) => entry.get('id') === c.aliceMessageId)
        messagesOf(doc).delete(index, 1)
      }),
  },
  {
    title: "a deletion of another member's text",
    reason: 'invalid_update',
    build: (c) => {
      const text = currentItem(entryOf(c.view, c.aliceMessageId), 'text')
      return encodeUpdate([], [{ client: text.id.client, ranges: [[text.id.clock, 1]] }])
    },
  },
  {
    title: "another member's message marked deleted",
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.aliceMessageId).set('deleted', true)),
  },
  {
    title: "an overwrite of another member's reaction",
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getMap('reactions').set(`${c.aliceMessageId}:${c.alice}:👍`, true),
      ),
  },
  {
    title: "a deletion of another member's reaction",
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getMap('reactions').delete(`${c.aliceMessageId}:${c.alice}:👍`),
      ),
  },
  {
    title: "a write of another member's read marker",
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        setReadMarker(doc, { userId: c.alice, messageId: c.malloryMessageId }),
      ),
  },
  {
    title: 'a write to system',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getArray('system').push([{ id: 'forged', type: 'renamed', title: 'Owned' }]),
      ),
  },
  {
    title: 'a write to moderation',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getMap('moderation').set(c.aliceMessageId, { by: c.mallory, at: Date.now() }),
      ),
  },
  {
    title: 'a write to an unknown root',
    reason: 'invalid_update',
    build: (c) => changeOf(c.replica(), (doc) => doc.getMap('settings').set('topic', 'owned')),
  },
  {
    title: 'a write to segments',
    reason: 'invalid_update',
    build: (c) => changeOf(c.replica(), (doc) => doc.getMap('segments').set('open', 7)),
  },
  {
    title: "a reuse of another member's client id",
    reason: 'client_id_taken',
    build: (c) =>
      changeOf(replicaOf(c.view, c.aliceClientId), (doc) =>
        sendMessage(doc, { authorId: c.mallory, text: 'under Alice’s client id' }),
      ),
  },
  {
    title: "a reuse of the server's client id",
    reason: 'client_id_taken',
    build: (c) =>
      changeOf(replicaOf(c.view, c.serverClientId), (doc) =>
        sendMessage(doc, { authorId: c.mallory, text: 'under the server’s client id' }),
      ),
  },
  {
    title: 'a text over 16 KiB',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        insertMessage(doc, { ...messageFields(c.mallory), text: 'é'.repeat(8193) }),
      ),
  },
  {
    title: 'a text that is a number',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => insertMessage(doc, { ...messageFields(c.mallory), text: 7 })),
  },
  {
    title: 'a createdAt that is a string',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        insertMessage(doc, { ...messageFields(c.mallory), createdAt: 'yesterday' }),
      ),
  },
  {
    title: 'mentions that are not an array',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        insertMessage(doc, { ...messageFields(c.mallory), mentions: c.alice }),
      ),
  },
  {
    title: 'deleted that is not true',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.malloryMessageId).set('deleted', false)),
  },
  {
    title: 'a message without id',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => {
        const fields: Record<string, unknown> = messageFields(c.mallory)
        delete fields.id
        insertMessage(doc, fields)
      }),
  },
  {
    title: 'a non-map entry in messages',
    reason: 'invalid_update',
    build: (c) => changeOf(c.replica(), (doc) => messagesOf(doc).push(['just a string' as never])),
  },
  {
    title: 'a nested type as a field value',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        insertMessage(doc, { ...messageFields(c.mallory), mentions: Y.Array.from([c.alice]) }),
      ),
  },
  {
    title: 'a change of createdAt of her own message after creation',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.malloryMessageId).set('createdAt', 0)),
  },
  {
    title: 'a reaction value that is not true',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getMap('reactions').set(`${c.aliceMessageId}:${c.mallory}:👍`, 'yes'),
      ),
  },
  {
    title: 'a malformed read marker',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getMap('reads').set(c.mallory, { messageId: 42, at: 'now' }),
      ),
  },
  {
    title: 'a map-style key on the messages root',
    reason: 'invalid_update',
    build: () => {
      const client = freshClientId()
      return encodeUpdate([
        {
          client,
          clock: 0,
          structs: [
            forgeItem(Y.createID(client, 0), {
              parent: 'messages',
              key: 'pinned',
              content: anyContent('forged'),
            }),
          ],
        },
      ])
    },
  },
  {
    title: 'truncated update bytes',
    reason: 'invalid_update',
    build: (c) => {
      const update = changeOf(c.replica(), (doc) =>
        sendMessage(doc, { authorId: c.mallory, text: 'cut in the middle' }),
      )
      return update.slice(0, Math.floor(update.length / 2))
    },
  },
  {
    title: 'random bytes',
    reason: 'invalid_update',
    // A first byte of 0 would start a valid empty update, so the bytes start with 0xff.
    build: () =>
      Uint8Array.from({ length: 300 }, (_, index) => (index === 0 ? 0xff : nextRandom())),
  },
  {
    title: 'an update over 1 MiB of valid messages',
    reason: 'too_large',
    build: (c) => largeUpdate(c, MAX_UPDATE_BYTES),
  },
  {
    title: 'a client id listed in two sections to make Alice the author',
    reason: 'invalid_update',
    build: (c) => {
      const helper = freshClientId()
      const forger = freshClientId()
      const map = Y.createID(helper, 0)
      const lastMessage = messagesOf(c.view).get(messagesOf(c.view).length - 1)._item
      if (!lastMessage) throw new Error('the view has no message')
      const fields = messageFields(c.mallory)
      return encodeUpdate(
        [
          {
            client: helper,
            clock: 0,
            structs: [
              forgeItem(map, { origin: lastMessage.id, content: mapContent() }),
              forgeItem(Y.createID(helper, 1), {
                parent: map,
                key: 'id',
                content: anyContent(fields.id),
              }),
              forgeItem(Y.createID(helper, 2), {
                parent: map,
                key: 'createdAt',
                content: anyContent(fields.createdAt),
              }),
              forgeItem(Y.createID(helper, 3), {
                parent: map,
                key: 'text',
                content: anyContent('Alice never wrote this'),
              }),
            ],
          },
          {
            client: forger,
            clock: 0,
            structs: [
              forgeItem(Y.createID(forger, 0), {
                origin: Y.createID(helper, 3),
                content: anyContent('checked but never applied'),
              }),
            ],
          },
          {
            client: forger,
            clock: 0,
            structs: [
              forgeItem(Y.createID(forger, 0), {
                parent: map,
                key: 'authorId',
                content: anyContent(c.mallory),
              }),
              forgeItem(Y.createID(forger, 1), {
                origin: Y.createID(forger, 0),
                content: anyContent(c.alice),
              }),
            ],
          },
        ],
        [{ client: forger, ranges: [[0, 1]] }],
      )
    },
  },
  {
    title: 'a deletion of her own message map in a range past the known clocks',
    reason: 'invalid_update',
    build: (c) => {
      const map = entryOf(c.view, c.malloryMessageId)._item
      if (!map) throw new Error('the message has no item')
      return encodeUpdate([], [{ client: map.id.client, ranges: [[map.id.clock, 1_000_000]] }])
    },
  },
  {
    title: 'a deletion of her own message map',
    reason: 'invalid_update',
    build: (c) =>
      changeOf(c.replica(), (doc) => {
        const index = messagesOf(doc)
          .toArray()
          .findIndex((entry) => entry.get('id') === c.malloryMessageId)
        messagesOf(doc).delete(index, 1)
      }),
  },
  {
    title: "an edit of another member's text sent as sync step 2",
    reason: 'invalid_update',
    step: SyncStep.Step2,
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.aliceMessageId).set('text', 'edited')),
  },
]

describe('sync attacks', () => {
  let server: TestServer
  let alice: ApiUser
  let bob: ApiUser
  let mallory: ApiUser
  let name: string
  let aliceClient: SyncClient
  let bobClient: SyncClient
  let aliceMessageId: MessageId
  let malloryMessageId: MessageId
  const raws: RawSyncClient[] = []
  /** Hocuspocus logs each refused update with console.error; they are checked at the end. */
  let consoleErrors: CapturedErrors

  beforeAll(async () => {
    consoleErrors = captureConsoleErrors()
    server = await startTestServer({ database: 'pglite' })
    alice = await createApiUser(server.url, 'alice')
    bob = await createApiUser(server.url, 'bob')
    mallory = await createApiUser(server.url, 'mallory')
    const group = await createGroup(alice, [bob, mallory])
    name = conversationDocumentName(group.id)

    aliceClient = openDocument(server.url, alice.token, name)
    bobClient = openDocument(server.url, bob.token, name)
    await waitForSync(aliceClient)
    await waitForSync(bobClient)
    aliceMessageId = sendMessage(aliceClient.doc, {
      authorId: alice.user.id,
      text: 'from Alice',
    }).id
    toggleReaction(aliceClient.doc, {
      messageId: aliceMessageId,
      userId: alice.user.id,
      emoji: '👍',
    })
    setReadMarker(aliceClient.doc, { userId: alice.user.id, messageId: aliceMessageId })
    await waitForAcknowledged(aliceClient)

    const malloryDevice = await openRaw()
    await malloryDevice.pull()
    const update = changeOf(malloryDevice.doc, (doc) => {
      malloryMessageId = sendMessage(doc, { authorId: mallory.user.id, text: 'from Mallory' }).id
    })
    const outcome = await malloryDevice.sendUpdate(update)
    if (outcome.kind !== 'acknowledged') throw new Error(`Mallory's message: ${outcome.kind}`)
    await waitFor(
      () => listMessages(aliceClient.doc).length === 2,
      "Alice to receive Mallory's message",
    )
  })
  afterAll(async () => {
    for (const raw of raws) raw.close()
    aliceClient?.destroy()
    bobClient?.destroy()
    await server?.stop()
    await server?.database.drop()
    consoleErrors.restore()
  })

  const openRaw = async (token = mallory.token, doc = new Y.Doc()) => {
    const raw = await RawSyncClient.open(server.url, name, token, doc)
    raws.push(raw)
    return raw
  }

  const serverDoc = () => {
    const doc = server.server.engine.hocuspocus.documents.get(name)
    if (!doc) throw new Error(`${name} is not loaded`)
    return doc
  }

  const storedState = async (): Promise<DocumentState> =>
    updateState(await server.server.services.documents.load(name))

  /** Sends an honest message as Bob and waits until the server stored it and Alice has it. */
  const honestMessageGoesThrough = async (text: string) => {
    sendMessage(bobClient.doc, { authorId: bob.user.id, text })
    await waitForAcknowledged(bobClient)
    await waitFor(
      () => listMessages(aliceClient.doc).some((message) => message.text === text),
      `Alice to receive "${text}"`,
    )
  }

  it('has at least 25 attacks', () => {
    expect(ATTACKS.length).toBeGreaterThanOrEqual(25)
  })

  it.each(ATTACKS)('refuses $title with $reason', async ({ title, reason, step, build }) => {
    const serverBefore = documentState(serverDoc())
    const storedBefore = await storedState()
    const aliceBefore = documentState(aliceClient.doc)
    const attacker = await openRaw()
    await attacker.pull()
    const forgedClients = new Set<number>()
    const context: AttackContext = {
      view: attacker.doc,
      replica: () => {
        const clientId = freshClientId()
        forgedClients.add(clientId)
        return replicaOf(attacker.doc, clientId)
      },
      alice: alice.user.id,
      mallory: mallory.user.id,
      aliceMessageId,
      malloryMessageId,
      aliceClientId: aliceClient.doc.clientID,
      serverClientId: serverDoc().clientID,
    }
    const update = build(context)

    const outcome = await attacker.sendUpdate(update, step)

    expect(outcome).toEqual({ kind: 'closed', reason })
    expect(documentState(serverDoc())).toEqual(serverBefore)
    expect(await storedState()).toEqual(storedBefore)
    expect(documentState(aliceClient.doc)).toEqual(aliceBefore)
    expect(aliceClient.closes).toEqual([])

    await honestMessageGoesThrough(`after ${title}`)
    const serverAfter = documentState(serverDoc())
    expect(documentState(aliceClient.doc)).toEqual(serverAfter)
    expect(await storedState()).toEqual(serverAfter)
    for (const client of forgedClients) {
      expect(serverAfter.stateVector[String(client)]).toBeUndefined()
    }
  })

  describe('honest changes', () => {
    it('passes edits, deletions, reactions and read markers of her own', async () => {
      const device = await openRaw()
      await device.pull()
      let id = ''
      const changes: ((doc: Y.Doc) => void)[] = [
        (doc) => {
          id = sendMessage(doc, { authorId: mallory.user.id, text: 'honest' }).id
        },
        (doc) => editMessage(doc, { messageId: id, userId: mallory.user.id, text: 'edited' }),
        (doc) => toggleReaction(doc, { messageId: id, userId: mallory.user.id, emoji: '🎉' }),
        (doc) => toggleReaction(doc, { messageId: id, userId: mallory.user.id, emoji: '🎉' }),
        (doc) => setReadMarker(doc, { userId: mallory.user.id, messageId: id as MessageId }),
        (doc) => deleteMessage(doc, { messageId: id, userId: mallory.user.id }),
      ]

      for (const change of changes) {
        const outcome = await device.sendUpdate(changeOf(device.doc, change))
        expect(outcome).toEqual({ kind: 'acknowledged', applied: true })
      }
      await waitFor(
        () => listMessages(aliceClient.doc).some((message) => message.id === id && message.deleted),
        "Alice to see Mallory's deletion",
      )
      expect(documentState(aliceClient.doc)).toEqual(documentState(serverDoc()))
      expect(await storedState()).toEqual(documentState(serverDoc()))
    })

    it('passes a reconnecting sync step 2 that repeats deletions by others', async () => {
      const offlineDoc = new Y.Doc()
      const device = await openRaw(mallory.token, offlineDoc)
      await device.pull()
      // Alice deletes her reaction and a message while Mallory's device is online.
      const id = sendMessage(aliceClient.doc, { authorId: alice.user.id, text: 'to delete' }).id
      toggleReaction(aliceClient.doc, { messageId: id, userId: alice.user.id, emoji: '👀' })
      await waitForAcknowledged(aliceClient)
      toggleReaction(aliceClient.doc, { messageId: id, userId: alice.user.id, emoji: '👀' })
      deleteMessage(aliceClient.doc, { messageId: id, userId: alice.user.id })
      await waitForAcknowledged(aliceClient)
      await waitFor(
        () => listMessages(offlineDoc).some((message) => message.id === id && message.deleted),
        "Mallory's device to receive the deletion",
      )
      await device.closed()
      sendMessage(offlineDoc, { authorId: mallory.user.id, text: 'written offline' })

      const reconnected = await openRaw(mallory.token, offlineDoc)
      await reconnected.pull()
      const stepTwo = Y.encodeStateAsUpdate(offlineDoc, reconnected.serverStateVector)
      const outcome = await reconnected.sendUpdate(stepTwo, SyncStep.Step2)
      const fullState = await reconnected.sendUpdate(
        Y.encodeStateAsUpdate(offlineDoc),
        SyncStep.Step2,
      )

      const deletions = Y.decodeUpdate(stepTwo).ds.clients
      expect(deletions.has(aliceClient.doc.clientID)).toBe(true)
      expect(outcome).toEqual({ kind: 'acknowledged', applied: true })
      expect(fullState).toEqual({ kind: 'acknowledged', applied: true })
      await waitFor(
        () => listMessages(aliceClient.doc).some((message) => message.text === 'written offline'),
        "Alice to receive Mallory's offline message",
      )
      expect(documentState(offlineDoc)).toEqual(documentState(serverDoc()))
    })
  })

  it('passes a deletion sent before its sync step 2', async () => {
    const offlineDoc = new Y.Doc()
    const device = await openRaw(mallory.token, offlineDoc)
    await device.pull()
    const react = (emoji: string) =>
      toggleReaction(offlineDoc, { messageId: aliceMessageId, userId: mallory.user.id, emoji })
    // A first write binds the device's client id to Mallory.
    const first = await device.sendUpdate(changeOf(offlineDoc, () => react('👋')))
    await device.closed()
    react('🙂')

    // As a provider does after a reconnect: sync step 1, then a local change made before the
    // server's reply, then sync step 2 with what the server lacks.
    const reconnected = await openRaw(mallory.token, offlineDoc)
    reconnected.sendSync(SyncStep.Step1, Y.encodeStateVector(offlineDoc))
    const removal: Uint8Array[] = []
    offlineDoc.on('update', (update: Uint8Array) => removal.push(update))
    react('🙂')
    const removalOutcome = await reconnected.sendUpdate(removal[0]!)
    await waitFor(() => reconnected.serverStateVector !== undefined, "the server's sync step 1")
    const stepTwo = Y.encodeStateAsUpdate(offlineDoc, reconnected.serverStateVector)
    const stepTwoOutcome = await reconnected.sendUpdate(stepTwo, SyncStep.Step2)

    expect(first).toEqual({ kind: 'acknowledged', applied: true })
    expect(removal).toHaveLength(1)
    expect(Y.decodeUpdate(removal[0]!).structs).toEqual([])
    expect(removalOutcome).toEqual({ kind: 'acknowledged', applied: true })
    expect(stepTwoOutcome).toEqual({ kind: 'acknowledged', applied: true })
    const reactions = serverDoc().getMap('reactions')
    expect(reactions.has(`${aliceMessageId}:${mallory.user.id}:👋`)).toBe(true)
    expect(reactions.has(`${aliceMessageId}:${mallory.user.id}:🙂`)).toBe(false)
    expect(documentState(offlineDoc)).toEqual(documentState(serverDoc()))
  })

  it('logs only the refusals of this suite', () => {
    const refusal = refusalLogPattern(['invalid_update', 'client_id_taken', 'too_large'])
    const unexpected = consoleErrors.lines.filter((line) => !refusal.test(line))

    expect(consoleErrors.lines.length).toBeGreaterThanOrEqual(2 * ATTACKS.length)
    expect(unexpected).toEqual([])
  })
})

/** Messages per history segment in the segment attacks, so that a few messages fill one. */
const SEGMENT_MESSAGES = 3

/** Which document of the conversation an attack on history segments targets. */
type SegmentTarget =
  'live, closed' | 'segment 1, closed' | 'segment 2, open' | 'segment 3, unopened'

const SEGMENT_NUMBERS: Record<SegmentTarget, number> = {
  'live, closed': 0,
  'segment 1, closed': 1,
  'segment 2, open': 2,
  'segment 3, unopened': 3,
}

interface SegmentAttackContext {
  replica(): Y.Doc
  alice: UserId
  mallory: UserId
  /** A message of Alice's in the open segment 2. */
  aliceMessageId: MessageId
  /** A message of Mallory's in the closed segment 1. */
  malloryMessageId: MessageId
}

interface SegmentAttack {
  title: string
  target: SegmentTarget
  build: (context: SegmentAttackContext) => Uint8Array
}

const SEGMENT_ATTACKS: SegmentAttack[] = [
  {
    title: 'a write to segments that reopens the live document',
    target: 'live, closed',
    build: (c) => changeOf(c.replica(), (doc) => doc.getMap('segments').set('open', 0)),
  },
  {
    title: 'a new message in the closed live document',
    target: 'live, closed',
    build: (c) =>
      changeOf(c.replica(), (doc) => sendMessage(doc, { authorId: c.mallory, text: 'too late' })),
  },
  {
    title: 'a new message in a closed segment',
    target: 'segment 1, closed',
    build: (c) =>
      changeOf(c.replica(), (doc) => sendMessage(doc, { authorId: c.mallory, text: 'too late' })),
  },
  {
    title: 'a read marker in a segment',
    target: 'segment 1, closed',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        setReadMarker(doc, { userId: c.mallory, messageId: c.malloryMessageId }),
      ),
  },
  {
    title: 'a write to moderation in a segment',
    target: 'segment 1, closed',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getMap('moderation').set(c.malloryMessageId, { by: c.mallory, at: Date.now() }),
      ),
  },
  {
    title: 'a write to system in a segment',
    target: 'segment 2, open',
    build: (c) =>
      changeOf(c.replica(), (doc) =>
        doc.getArray('system').push([{ id: 'forged', type: 'renamed', title: 'Owned' }]),
      ),
  },
  {
    title: 'a message created as another member in a segment',
    target: 'segment 2, open',
    build: (c) =>
      changeOf(c.replica(), (doc) => sendMessage(doc, { authorId: c.alice, text: 'I am Alice' })),
  },
  {
    title: "an edit of another member's message in a segment",
    target: 'segment 2, open',
    build: (c) =>
      changeOf(c.replica(), (doc) => entryOf(doc, c.aliceMessageId).set('text', 'edited')),
  },
  {
    title: 'a new message in a segment not open yet',
    target: 'segment 3, unopened',
    build: (c) =>
      changeOf(c.replica(), (doc) => sendMessage(doc, { authorId: c.mallory, text: 'too early' })),
  },
]

describe('sync attacks on history segments', () => {
  let server: TestServer
  let alice: ApiUser
  let mallory: ApiUser
  let conversationId: ConversationId
  let aliceMessageId: MessageId
  let malloryMessageId: MessageId
  /** Alice's open clients, which keep the documents loaded on the server. */
  const aliceClients = new Map<number, SyncClient>()
  const raws: RawSyncClient[] = []
  let consoleErrors: CapturedErrors

  const nameOf = (segment: number) => segmentDocumentName(conversationId, segment)

  const openRaw = async (segment: number) => {
    const raw = await RawSyncClient.open(server.url, nameOf(segment), mallory.token)
    raws.push(raw)
    await raw.pull()
    return raw
  }

  /** Opens a segment for Alice and keeps the client open for the rest of the suite. */
  const openForAlice = async (segment: number) => {
    const client = openDocument(server.url, alice.token, nameOf(segment))
    aliceClients.set(segment, client)
    await waitForSync(client)
    return client
  }

  const aliceLive = () => aliceClients.get(0)!

  /** Waits until Alice's live document announces the open segment. */
  const waitForOpen = (segment: number) =>
    waitFor(() => openSegment(aliceLive().doc) === segment, `segment ${segment} to open`)

  const storedState = async (segment: number): Promise<DocumentState> =>
    updateState(await server.server.services.documents.load(nameOf(segment)))

  const loadedState = (segment: number): DocumentState | undefined => {
    const doc = server.server.engine.hocuspocus.documents.get(nameOf(segment))
    return doc && documentState(doc)
  }

  beforeAll(async () => {
    consoleErrors = captureConsoleErrors()
    server = await startTestServer({
      database: 'pglite',
      config: { segmentMessages: SEGMENT_MESSAGES },
    })
    alice = await createApiUser(server.url, 'alice')
    mallory = await createApiUser(server.url, 'mallory')
    conversationId = (await createGroup(alice, [mallory])).id

    const live = await openForAlice(0)
    for (const text of ['live 1', 'live 2', 'live 3']) {
      sendMessage(live.doc, { authorId: alice.user.id, text })
      await waitForAcknowledged(live)
    }
    await waitForOpen(1)

    const first = await openForAlice(1)
    sendMessage(first.doc, { authorId: alice.user.id, text: 'segment 1, first' })
    await waitForAcknowledged(first)
    const malloryDevice = await openRaw(1)
    const update = changeOf(malloryDevice.doc, (doc) => {
      malloryMessageId = sendMessage(doc, { authorId: mallory.user.id, text: 'from Mallory' }).id
    })
    const outcome = await malloryDevice.sendUpdate(update)
    if (outcome.kind !== 'acknowledged') throw new Error(`Mallory's message: ${outcome.kind}`)
    await waitFor(() => listMessages(first.doc).length === 2, "Alice to receive Mallory's message")
    sendMessage(first.doc, { authorId: alice.user.id, text: 'segment 1, last' })
    await waitForAcknowledged(first)
    await waitForOpen(2)

    const second = await openForAlice(2)
    aliceMessageId = sendMessage(second.doc, { authorId: alice.user.id, text: 'segment 2' }).id
    await waitForAcknowledged(second)
  })
  afterAll(async () => {
    for (const raw of raws) raw.close()
    for (const client of aliceClients.values()) client.destroy()
    await server?.stop()
    await server?.database.drop()
    consoleErrors.restore()
  })

  it.each(SEGMENT_ATTACKS)('refuses $title ($target)', async ({ target, build }) => {
    const segment = SEGMENT_NUMBERS[target]
    const storedBefore = await storedState(segment)
    const loadedBefore = loadedState(segment)
    const aliceClient = aliceClients.get(segment)
    const aliceBefore = aliceClient && documentState(aliceClient.doc)
    const attacker = await openRaw(segment)
    const context: SegmentAttackContext = {
      replica: () => replicaOf(attacker.doc, freshClientId()),
      alice: alice.user.id,
      mallory: mallory.user.id,
      aliceMessageId,
      malloryMessageId,
    }

    const outcome = await attacker.sendUpdate(build(context))

    expect(outcome).toEqual({ kind: 'closed', reason: 'invalid_update' })
    expect(await storedState(segment)).toEqual(storedBefore)
    if (loadedBefore) expect(loadedState(segment)).toEqual(loadedBefore)
    if (aliceClient) {
      expect(documentState(aliceClient.doc)).toEqual(aliceBefore)
      expect(aliceClient.closes).toEqual([])
    }
    expect(openSegment(aliceLive().doc)).toBe(2)
  })

  it('passes edits, reactions and deletions of her own in a closed segment', async () => {
    const device = await openRaw(1)
    const changes: ((doc: Y.Doc) => void)[] = [
      (doc) =>
        editMessage(doc, {
          messageId: malloryMessageId,
          userId: mallory.user.id,
          text: 'edited in a closed segment',
        }),
      (doc) =>
        toggleReaction(doc, {
          messageId: malloryMessageId,
          userId: mallory.user.id,
          emoji: '🎉',
        }),
      (doc) => deleteMessage(doc, { messageId: malloryMessageId, userId: mallory.user.id }),
    ]

    const outcomes = []
    for (const change of changes) {
      outcomes.push(await device.sendUpdate(changeOf(device.doc, change)))
    }

    expect(outcomes).toEqual(changes.map(() => ({ kind: 'acknowledged', applied: true })))
    const stored = await server.server.services.documents.load(nameOf(1))
    const storedDoc = new Y.Doc()
    Y.applyUpdate(storedDoc, stored!)
    const message = listMessages(storedDoc).find((entry) => entry.id === malloryMessageId)
    expect(message?.deleted).toBe(true)
    expect(message?.editedAt).toBeTypeOf('number')
    expect(storedDoc.getMap('reactions').has(`${malloryMessageId}:${mallory.user.id}:🎉`)).toBe(
      true,
    )
    expect(listMessages(storedDoc)).toHaveLength(SEGMENT_MESSAGES)
  })

  it('still takes an honest message in the open segment', async () => {
    const second = aliceClients.get(2)!
    sendMessage(second.doc, { authorId: alice.user.id, text: 'after the attacks' })
    await waitForAcknowledged(second)

    expect((await storedState(2)).json.messages).toHaveLength(2)
  })

  it('logs only the refusals of this suite', () => {
    const refusal = refusalLogPattern(['invalid_update'])
    const unexpected = consoleErrors.lines.filter((line) => !refusal.test(line))

    expect(consoleErrors.lines.length).toBeGreaterThanOrEqual(SEGMENT_ATTACKS.length)
    expect(unexpected).toEqual([])
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  deleteMessage,
  editMessage,
  findMessageEntry,
  MAX_MESSAGE_BYTES,
  messagesOf,
  sendMessage,
  setReadMarker,
  toggleReaction,
} from '../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../shared/ids.ts'
import { type OpenDatabase, openDatabase } from '../../sync-server/persistence/database.ts'
import { ClientBindings, SERVER_OWNER } from '../../sync-server/sync/validation/client-bindings.ts'
import { documentRules } from '../../sync-server/sync/validation/document-rules.ts'
import {
  type ValidationResult,
  validateUpdate,
} from '../../sync-server/sync/validation/validate-update.ts'
import { createPgliteDatabase, type TestDatabase } from '../helpers/databases.ts'
import {
  anyContent,
  changeOf,
  encodeUpdate,
  forgeItem,
  mapContent,
  replicaOf,
} from '../helpers/forged-updates.ts'

const ALICE = 'alice0000000000000001' as UserId
const MALLORY = 'mallory00000000000001' as UserId

let clientCounter = 10_000
let documentCounter = 0

/** Returns a client id that no other device in this file uses. */
function nextClientId(): number {
  clientCounter += 7
  return clientCounter
}

describe('validateUpdate', () => {
  let database: TestDatabase
  let opened: OpenDatabase
  let bindings: ClientBindings

  beforeAll(async () => {
    database = createPgliteDatabase()
    opened = await openDatabase({ dataDir: database.dataDir })
    bindings = new ClientBindings(opened.db)
  })
  afterAll(async () => {
    await opened.close()
    await database.drop()
  })

  /**
   * Position of a test document in its conversation's history: the segment it contains, and
   * the open segment as a cache of it returns it and as the database stores it. Both default to
   * the document's own segment, which makes it the open one.
   */
  interface SegmentLayout {
    segment: number
    cachedOpen: number
    storedOpen: number
  }

  /**
   * Creates a server copy of a new conversation document, its client id bound to the server.
   * `open` is the open segment that the validator reads. A test may close the segment by
   * raising both numbers, and `freshReads` counts the reads past the cache.
   */
  async function conversation(store = bindings, layout: Partial<SegmentLayout> = {}) {
    documentCounter++
    const segment = layout.segment ?? 0
    const liveName = `conv:unit${documentCounter}-${Date.now().toString(36)}`
    const name = segment === 0 ? liveName : `${liveName}:seg:${segment}`
    const server = new Y.Doc()
    server.clientID = nextClientId()
    await store.bind(name, [server.clientID], SERVER_OWNER)
    const cached = layout.cachedOpen ?? segment
    const open = { cached, stored: layout.storedOpen ?? cached, freshReads: 0 }
    const rules = documentRules(name, (fresh) => {
      if (fresh) {
        open.freshReads++
        open.cached = open.stored
      }
      return Promise.resolve(open.cached)
    })

    const check = (update: Uint8Array, writer: string, using = store) =>
      validateUpdate(server, name, update, writer, using, rules)
    /** Validates an update that must pass, then applies it as the server would. */
    const accept = async (update: Uint8Array, writer: string): Promise<ValidationResult> => {
      const result = await check(update, writer)
      if (!result.ok) throw new Error(`update rejected: ${JSON.stringify(result.violation)}`)
      Y.applyUpdate(server, update)
      return result
    }
    /** Returns a device of a user: a replica of the server's state under a new client id. */
    const device = () => replicaOf(server, nextClientId())
    /** Brings a device up to the server's state. */
    const pull = (replica: Y.Doc) =>
      Y.applyUpdate(replica, Y.encodeStateAsUpdate(server, Y.encodeStateVector(replica)))
    /** Changes a device and sends the change as an update that must pass. */
    const write = (replica: Y.Doc, writer: string, change: (doc: Y.Doc) => void) =>
      accept(changeOf(replica, change), writer)
    /** Writes a message of Alice's from a new device and returns that device and the message id. */
    const aliceMessage = async (text = 'hello from Alice') => {
      const alice = device()
      let id = ''
      await write(alice, ALICE, (doc) => {
        id = sendMessage(doc, { authorId: ALICE, text }).id
      })
      return { alice, id: id as MessageId }
    }
    /** Closes the document's segment, as the server does once it is full. */
    const closeSegment = () => {
      open.cached = segment + 1
      open.stored = segment + 1
    }
    return { name, server, open, check, accept, device, pull, write, aliceMessage, closeSegment }
  }

  /** Builds a message map of the given fields in a replica, as a client would. */
  function insertMessage(doc: Y.Doc, fields: Record<string, unknown>): Y.Map<unknown> {
    const entry = new Y.Map<unknown>()
    for (const [key, value] of Object.entries(fields)) entry.set(key, value)
    const messages = messagesOf(doc)
    messages.insert(messages.length, [entry])
    return entry
  }

  const validFields = (authorId: string) => ({
    id: 'msg0000000000000000001',
    authorId,
    text: 'a message',
    createdAt: 1_700_000_000_000,
  })

  describe('accepts', () => {
    it('a new message by its author', async () => {
      const { check, device, name } = await conversation()
      const alice = device()
      const update = changeOf(alice, (doc) => sendMessage(doc, { authorId: ALICE, text: 'hi' }))

      const result = await check(update, ALICE)

      expect(result.ok).toBe(true)
      expect(result.ok ? result.novel : undefined).toBeInstanceOf(Uint8Array)
      expect((await bindings.owners(name)).get(alice.clientID)).toBe(ALICE)
    })

    it('edits, deletions, reactions and read markers of the writer', async () => {
      const { write, aliceMessage } = await conversation()
      const { alice, id } = await aliceMessage()

      await write(alice, ALICE, (doc) =>
        editMessage(doc, { messageId: id, userId: ALICE, text: 'edited', mentions: [MALLORY] }),
      )
      await write(alice, ALICE, (doc) =>
        toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '👍' }),
      )
      await write(alice, ALICE, (doc) =>
        toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '👍' }),
      )
      await write(alice, ALICE, (doc) => setReadMarker(doc, { userId: ALICE, messageId: id }))
      const result = await write(alice, ALICE, (doc) =>
        deleteMessage(doc, { messageId: id, userId: ALICE }),
      )

      expect(result.ok).toBe(true)
    })

    it('an edit from the author’s second device', async () => {
      const { write, device, aliceMessage } = await conversation()
      const { id } = await aliceMessage()
      const secondDevice = device()

      const result = await write(secondDevice, ALICE, (doc) =>
        editMessage(doc, { messageId: id, userId: ALICE, text: 'from the phone' }),
      )

      expect(result.ok).toBe(true)
    })

    it('a message with a reply and mentions', async () => {
      const { write, device, aliceMessage } = await conversation()
      const { id } = await aliceMessage()
      const mallory = device()

      const result = await write(mallory, MALLORY, (doc) =>
        sendMessage(doc, { authorId: MALLORY, text: 'reply', replyTo: id, mentions: [ALICE] }),
      )

      expect(result.ok).toBe(true)
    })

    it('an update the document has already, as nothing novel', async () => {
      const { accept, check, device } = await conversation()
      const alice = device()
      const update = changeOf(alice, (doc) => sendMessage(doc, { authorId: ALICE, text: 'hi' }))
      await accept(update, ALICE)

      const again = await check(update, ALICE)

      expect(again).toEqual({ ok: true, novel: undefined })
    })

    it('a new update, as equivalent novel bytes', async () => {
      const { check, device, server } = await conversation()
      const update = changeOf(device(), (doc) =>
        sendMessage(doc, { authorId: ALICE, text: 'stored as sent' }),
      )

      const result = await check(update, ALICE)
      const fromUpdate = replicaOf(server, nextClientId())
      Y.applyUpdate(fromUpdate, update)
      const fromNovel = replicaOf(server, nextClientId())
      if (result.ok && result.novel) Y.applyUpdate(fromNovel, result.novel)

      expect(result.ok).toBe(true)
      expect(Y.encodeStateVector(fromNovel)).toEqual(Y.encodeStateVector(fromUpdate))
      expect(messagesOf(fromNovel).toJSON()).toEqual(messagesOf(fromUpdate).toJSON())
    })

    it('a partly known update, as its unknown part', async () => {
      const { check, server, aliceMessage } = await conversation()
      const { alice } = await aliceMessage('known')
      const knownClock = Y.getState(server.store, alice.clientID)
      sendMessage(alice, { authorId: ALICE, text: 'unknown' })

      const result = await check(Y.encodeStateAsUpdate(alice), ALICE)
      const novel = result.ok ? result.novel : undefined
      const structs = novel ? Y.decodeUpdate(novel).structs : []
      if (novel) Y.applyUpdate(server, novel)

      expect(novel).toBeInstanceOf(Uint8Array)
      expect(Math.min(...structs.map((struct) => struct.id.clock))).toBe(knownClock)
      expect(messagesOf(server).map((entry) => entry.get('text'))).toEqual(['known', 'unknown'])
    })

    it('a sync step 2 that repeats deletions made by others', async () => {
      const { write, check, device, pull, aliceMessage } = await conversation()
      const { alice, id } = await aliceMessage()
      await write(alice, ALICE, (doc) =>
        toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '🎉' }),
      )
      await write(alice, ALICE, (doc) =>
        toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '🎉' }),
      )
      await write(alice, ALICE, (doc) => deleteMessage(doc, { messageId: id, userId: ALICE }))
      const mallory = device()
      pull(mallory)

      const fullState = Y.encodeStateAsUpdate(mallory)
      const result = await check(fullState, MALLORY)

      expect(Y.decodeUpdate(fullState).ds.clients.has(alice.clientID)).toBe(true)
      expect(result).toEqual({ ok: true, novel: undefined })
    })
  })

  describe('rejects', () => {
    it('undecodable bytes (undecodable)', async () => {
      const { check, device } = await conversation()
      const update = changeOf(device(), (doc) =>
        sendMessage(doc, { authorId: MALLORY, text: 'cut short' }),
      )

      const result = await check(update.slice(0, update.length - 9), MALLORY)

      expect(result).toMatchObject({ ok: false, violation: { rule: 'undecodable' } })
    })

    it('another user’s client id (client_id_taken)', async () => {
      const { check, server, aliceMessage } = await conversation()
      const { alice } = await aliceMessage()
      const forged = replicaOf(server, alice.clientID)

      const result = await check(
        changeOf(forged, (doc) => sendMessage(doc, { authorId: MALLORY, text: 'mine now' })),
        MALLORY,
      )

      expect(result).toMatchObject({
        ok: false,
        reason: 'client_id_taken',
        violation: { rule: 'client_id_taken' },
      })
    })

    it('an item whose origin the server lacks (parent_unknown)', async () => {
      const { check } = await conversation()
      const client = nextClientId()
      const update = encodeUpdate([
        {
          client,
          clock: 0,
          structs: [
            forgeItem(Y.createID(client, 0), {
              origin: Y.createID(nextClientId(), 5),
              content: anyContent('orphan'),
            }),
          ],
        },
      ])

      const result = await check(update, MALLORY)

      expect(result).toMatchObject({ ok: false, violation: { rule: 'parent_unknown' } })
    })

    it.each([
      ['system', (doc: Y.Doc) => doc.getArray('system').push([{ id: 'e1', type: 'renamed' }])],
      ['moderation', (doc: Y.Doc) => doc.getMap('moderation').set('m1', { by: 'x', at: 1 })],
      ['segments', (doc: Y.Doc) => doc.getMap('segments').set('open', 0)],
      ['an unknown root', (doc: Y.Doc) => doc.getMap('settings').set('theme', 'dark')],
    ])('a write to %s (root_not_writable)', async (_root, change) => {
      const { check, device } = await conversation()

      const result = await check(changeOf(device(), change), MALLORY)

      expect(result).toMatchObject({
        ok: false,
        reason: 'invalid_update',
        violation: { rule: 'root_not_writable' },
      })
    })

    it('a map-style key on the messages root (messages_key)', async () => {
      const { check } = await conversation()
      const client = nextClientId()
      const update = encodeUpdate([
        {
          client,
          clock: 0,
          structs: [
            forgeItem(Y.createID(client, 0), {
              parent: 'messages',
              key: 'pinned',
              content: anyContent('x'),
            }),
          ],
        },
      ])

      const result = await check(update, MALLORY)

      expect(result).toMatchObject({ ok: false, violation: { rule: 'messages_key' } })
    })

    it('an entry of messages that is not a map (message_not_map)', async () => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => messagesOf(doc).push(['plain text' as never])),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_not_map' } })
    })

    it.each(['id', 'authorId', 'text', 'createdAt'])(
      'a new message without %s (message_missing_key)',
      async (key) => {
        const { check, device } = await conversation()
        const fields: Record<string, unknown> = validFields(MALLORY)
        delete fields[key]

        const result = await check(
          changeOf(device(), (doc) => insertMessage(doc, fields)),
          MALLORY,
        )

        expect(result).toMatchObject({
          ok: false,
          violation: { rule: 'message_missing_key', detail: key },
        })
      },
    )

    it('a new message written as another user (message_author)', async () => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => sendMessage(doc, { authorId: ALICE, text: 'I am Alice' })),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_author' } })
    })

    it.each([
      ['text', (entry: Y.Map<unknown>) => entry.set('text', 'rewritten')],
      ['deleted', (entry: Y.Map<unknown>) => entry.set('deleted', true)],
      ['editedAt', (entry: Y.Map<unknown>) => entry.set('editedAt', 1)],
      ['mentions', (entry: Y.Map<unknown>) => entry.set('mentions', [])],
    ])("a write of %s on another user's message (message_of_other_user)", async (_key, change) => {
      const { check, device, aliceMessage } = await conversation()
      const { id } = await aliceMessage()

      const result = await check(
        changeOf(device(), (doc) => change(findMessageEntry(doc, id)!)),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_of_other_user' } })
    })

    it('a new message with the id of an existing one (message_id_taken)', async () => {
      const { check, device, aliceMessage } = await conversation()
      const { id } = await aliceMessage()

      const result = await check(
        changeOf(device(), (doc) => insertMessage(doc, { ...validFields(MALLORY), id })),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_id_taken' } })
    })

    it('two new messages with one id (message_id_taken)', async () => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => {
          insertMessage(doc, validFields(MALLORY))
          insertMessage(doc, { ...validFields(MALLORY), text: 'again' })
        }),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_id_taken' } })
    })

    it('a reused id after the server learnt of the first message (message_id_taken)', async () => {
      const { check, device, write, server } = await conversation()
      // The validator reads the document's ids at its first check, then follows its changes.
      await write(device(), ALICE, (doc) => sendMessage(doc, { authorId: ALICE, text: 'first' }))
      const second = device()
      let id = ''
      await write(second, ALICE, (doc) => {
        id = sendMessage(doc, { authorId: ALICE, text: 'second' }).id
      })

      const result = await check(
        changeOf(replicaOf(server, nextClientId()), (doc) =>
          insertMessage(doc, { ...validFields(MALLORY), id }),
        ),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_id_taken' } })
    })

    it('a key outside the schema on the writer’s message (message_key)', async () => {
      const { check, write, device } = await conversation()
      const mallory = device()
      let id = ''
      await write(mallory, MALLORY, (doc) => {
        id = sendMessage(doc, { authorId: MALLORY, text: 'mine' }).id
      })

      const result = await check(
        changeOf(mallory, (doc) => findMessageEntry(doc, id)!.set('color', 'red')),
        MALLORY,
      )

      expect(result).toMatchObject({
        ok: false,
        violation: { rule: 'message_key', detail: 'color' },
      })
    })

    it.each([
      ['id', 'msg0000000000000000099'],
      ['authorId', MALLORY],
      ['createdAt', 1],
      ['replyTo', 'msg0000000000000000098'],
    ])('a change of %s after creation (message_immutable_key)', async (key, value) => {
      const { check, write, device } = await conversation()
      const mallory = device()
      let id = ''
      await write(mallory, MALLORY, (doc) => {
        id = sendMessage(doc, { authorId: MALLORY, text: 'mine' }).id
      })

      const result = await check(
        changeOf(mallory, (doc) => findMessageEntry(doc, id)!.set(key, value)),
        MALLORY,
      )

      expect(result).toMatchObject({
        ok: false,
        violation: { rule: 'message_immutable_key', detail: key },
      })
    })

    it.each([
      ['text a number', { text: 42 }],
      ['createdAt a string', { createdAt: '2024-01-01' }],
      ['createdAt infinite', { createdAt: Infinity }],
      ['id longer than 64 characters', { id: 'x'.repeat(65) }],
      ['mentions not an array', { mentions: 'alice' }],
      ['mentions with a number', { mentions: [1] }],
      ['mentions over 50 users', { mentions: Array.from({ length: 51 }, (_, i) => `user${i}`) }],
      ['deleted false', { deleted: false }],
      ['editedAt a string', { editedAt: 'now' }],
      ['replyTo a number', { replyTo: 7 }],
    ])('a new message with %s (message_field_type)', async (_case, override) => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => insertMessage(doc, { ...validFields(MALLORY), ...override })),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_field_type' } })
    })

    it('a nested type as a field value (message_field_type)', async () => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) =>
          insertMessage(doc, { ...validFields(MALLORY), text: new Y.Text('rich') }),
        ),
        MALLORY,
      )

      expect(result).toMatchObject({
        ok: false,
        violation: { rule: 'message_field_type', detail: 'text' },
      })
    })

    it('a text over 16 KiB (message_text_too_large)', async () => {
      const { check, device } = await conversation()
      const text = 'é'.repeat(MAX_MESSAGE_BYTES / 2 + 1)

      const result = await check(
        changeOf(device(), (doc) => insertMessage(doc, { ...validFields(MALLORY), text })),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_text_too_large' } })
    })

    it('accepts a text of exactly 16 KiB', async () => {
      const { check, device } = await conversation()
      const text = 'é'.repeat(MAX_MESSAGE_BYTES / 2)

      const result = await check(
        changeOf(device(), (doc) => insertMessage(doc, { ...validFields(MALLORY), text })),
        MALLORY,
      )

      expect(result.ok).toBe(true)
    })

    it('an item inside a value that is not a message (nested_type)', async () => {
      const { check, write, device } = await conversation()
      const mallory = device()
      await write(mallory, MALLORY, (doc) =>
        toggleReaction(doc, { messageId: 'msg1', userId: MALLORY, emoji: '👍' }),
      )
      const reaction = currentItem(mallory.getMap('reactions'), `msg1:${MALLORY}:👍`)
      const client = mallory.clientID
      const clock = Y.getState(mallory.store, client)
      const update = encodeUpdate([
        {
          client,
          clock,
          structs: [
            forgeItem(Y.createID(client, clock), {
              parent: reaction.id,
              key: 'inner',
              content: anyContent(1),
            }),
          ],
        },
      ])

      const result = await check(update, MALLORY)

      expect(result).toMatchObject({ ok: false, violation: { rule: 'nested_type' } })
    })

    it.each([
      ['no user part', 'msg1'],
      ['an empty emoji', `msg1:${MALLORY}:`],
      ['an emoji over 32 code units', `msg1:${MALLORY}:${'x'.repeat(33)}`],
    ])('a reaction key with %s (reaction_key)', async (_case, key) => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => doc.getMap('reactions').set(key, true)),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'reaction_key' } })
    })

    it('a reaction under another user’s id (reaction_other_user)', async () => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => doc.getMap('reactions').set(`msg1:${ALICE}:👍`, true)),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'reaction_other_user' } })
    })

    it.each([
      ['false', false],
      ['a string', 'yes'],
      ['an object', { value: true }],
    ])('a reaction value of %s (reaction_value)', async (_case, value) => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => doc.getMap('reactions').set(`msg1:${MALLORY}:👍`, value)),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'reaction_value' } })
    })

    it('a read marker under another user’s id (read_marker_other_user)', async () => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) =>
          setReadMarker(doc, { userId: ALICE, messageId: 'msg1' as MessageId }),
        ),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'read_marker_other_user' } })
    })

    it.each([
      ['a string', 'msg1'],
      ['no time', { messageId: 'msg1' }],
      ['a numeric message id', { messageId: 1, at: 1 }],
    ])('a read marker of %s (read_marker_value)', async (_case, value) => {
      const { check, device } = await conversation()

      const result = await check(
        changeOf(device(), (doc) => doc.getMap('reads').set(MALLORY, value)),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'read_marker_value' } })
    })

    it('a deletion of clocks of another user that the server lacks (delete_unknown_item)', async () => {
      const { check, server, aliceMessage } = await conversation()
      const { alice } = await aliceMessage()
      const state = Y.getState(server.store, alice.clientID)

      const result = await check(
        encodeUpdate([], [{ client: alice.clientID, ranges: [[state, 3]] }]),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'delete_unknown_item' } })
    })

    it('a deletion of another user’s text (delete_other_user)', async () => {
      const { check, server, aliceMessage } = await conversation()
      const { id } = await aliceMessage()
      const text = currentItem(findMessageEntry(server, id)!, 'text')

      const result = await check(
        encodeUpdate([], [{ client: text.id.client, ranges: [[text.id.clock, 1]] }]),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'delete_other_user' } })
    })

    it('a deletion of another user’s reaction (delete_other_user)', async () => {
      const { check, write, device, aliceMessage } = await conversation()
      const { alice, id } = await aliceMessage()
      await write(alice, ALICE, (doc) =>
        toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '👍' }),
      )

      const result = await check(
        changeOf(device(), (doc) => doc.getMap('reactions').delete(`${id}:${ALICE}:👍`)),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'delete_other_user' } })
    })

    it('a deletion of the writer’s own message map (delete_message)', async () => {
      const { check, write, device } = await conversation()
      const mallory = device()
      await write(mallory, MALLORY, (doc) =>
        sendMessage(doc, { authorId: MALLORY, text: 'gone without a trace' }),
      )

      const result = await check(
        changeOf(mallory, (doc) => messagesOf(doc).delete(0, 1)),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'delete_message' } })
    })
  })

  describe('history segments', () => {
    it('accepts a new message in the open segment’s document', async () => {
      const { write, device } = await conversation(bindings, { segment: 2 })

      const result = await write(device(), ALICE, (doc) =>
        sendMessage(doc, { authorId: ALICE, text: 'into segment 2' }),
      )

      expect(result.ok).toBe(true)
    })

    it('accepts edits, reactions and deletions in a closed segment', async () => {
      const { write, aliceMessage, closeSegment } = await conversation(bindings, { segment: 1 })
      const { alice, id } = await aliceMessage()
      closeSegment()

      const results = [
        await write(alice, ALICE, (doc) =>
          editMessage(doc, { messageId: id, userId: ALICE, text: 'edited after closing' }),
        ),
        await write(alice, ALICE, (doc) =>
          toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '👍' }),
        ),
        await write(alice, ALICE, (doc) =>
          toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '👍' }),
        ),
        await write(alice, ALICE, (doc) => deleteMessage(doc, { messageId: id, userId: ALICE })),
      ]

      expect(results.map((result) => result.ok)).toEqual([true, true, true, true])
    })

    it('accepts read markers in the live document after it closed', async () => {
      const { write, aliceMessage, closeSegment } = await conversation()
      const { alice, id } = await aliceMessage()
      closeSegment()

      const result = await write(alice, ALICE, (doc) =>
        setReadMarker(doc, { userId: ALICE, messageId: id }),
      )

      expect(result.ok).toBe(true)
    })

    it('reads the open segment again when the cached one is behind', async () => {
      const { check, device, open } = await conversation(bindings, {
        segment: 3,
        cachedOpen: 2,
        storedOpen: 3,
      })

      const result = await check(
        changeOf(device(), (doc) => sendMessage(doc, { authorId: ALICE, text: 'just opened' })),
        ALICE,
      )

      expect(result.ok).toBe(true)
      expect(open.freshReads).toBe(1)
    })

    it('reads no open segment for a reaction in the live document', async () => {
      const { check, device, open } = await conversation()

      const result = await check(
        changeOf(device(), (doc) =>
          toggleReaction(doc, { messageId: 'msg1', userId: ALICE, emoji: '👍' }),
        ),
        ALICE,
      )

      expect(result.ok).toBe(true)
      expect(open.freshReads).toBe(0)
    })

    it('rejects a new message in a closed segment (segment_closed)', async () => {
      const { check, device, aliceMessage, closeSegment } = await conversation(bindings, {
        segment: 1,
      })
      await aliceMessage()
      closeSegment()

      const result = await check(
        changeOf(device(), (doc) => sendMessage(doc, { authorId: MALLORY, text: 'too late' })),
        MALLORY,
      )

      expect(result).toMatchObject({
        ok: false,
        reason: 'invalid_update',
        violation: { rule: 'segment_closed', detail: 'segment 1, open 2' },
      })
    })

    it('rejects a new message in the live document once closed (segment_closed)', async () => {
      const { check, device } = await conversation(bindings, { cachedOpen: 1 })

      const result = await check(
        changeOf(device(), (doc) => sendMessage(doc, { authorId: ALICE, text: 'too late' })),
        ALICE,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'segment_closed' } })
    })

    it('rejects a new message that the same update deletes (segment_closed)', async () => {
      const { check, device } = await conversation(bindings, { segment: 1, cachedOpen: 2 })

      const result = await check(
        changeOf(device(), (doc) => {
          sendMessage(doc, { authorId: ALICE, text: 'gone at once' })
          messagesOf(doc).delete(messagesOf(doc).length - 1, 1)
        }),
        ALICE,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'segment_closed' } })
    })

    it.each([
      [
        'a new message',
        (doc: Y.Doc) => sendMessage(doc, { authorId: ALICE, text: 'ahead of time' }),
      ],
      [
        'a reaction',
        (doc: Y.Doc) => toggleReaction(doc, { messageId: 'msg1', userId: ALICE, emoji: '👍' }),
      ],
    ])('rejects %s in a segment after the open one (segment_not_open)', async (_case, change) => {
      const { check, device, open } = await conversation(bindings, { segment: 3, cachedOpen: 2 })

      const result = await check(changeOf(device(), change), ALICE)

      expect(result).toMatchObject({
        ok: false,
        violation: { rule: 'segment_not_open', detail: 'segment 3, open 2' },
      })
      expect(open.freshReads).toBe(1)
    })

    it.each([
      [
        'reads',
        (doc: Y.Doc) => setReadMarker(doc, { userId: ALICE, messageId: 'msg1' as MessageId }),
      ],
      ['system', (doc: Y.Doc) => doc.getArray('system').push([{ id: 'e1', type: 'renamed' }])],
      ['segments', (doc: Y.Doc) => doc.getMap('segments').set('open', 1)],
      ['moderation', (doc: Y.Doc) => doc.getMap('moderation').set('m1', { by: 'x', at: 1 })],
    ])('rejects a write to %s in a segment (root_not_writable)', async (root, change) => {
      const { check, device } = await conversation(bindings, { segment: 1 })

      const result = await check(changeOf(device(), change), ALICE)

      expect(result).toMatchObject({
        ok: false,
        reason: 'invalid_update',
        violation: { rule: 'root_not_writable', detail: root },
      })
    })

    it('rejects a message of another author in a segment (message_author)', async () => {
      const { check, device } = await conversation(bindings, { segment: 2 })

      const result = await check(
        changeOf(device(), (doc) => sendMessage(doc, { authorId: ALICE, text: 'I am Alice' })),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_author' } })
    })

    it('rejects an edit of another user’s message in a segment', async () => {
      const { check, device, aliceMessage } = await conversation(bindings, { segment: 2 })
      const { id } = await aliceMessage()

      const result = await check(
        changeOf(device(), (doc) => findMessageEntry(doc, id)!.set('text', 'hijacked')),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_of_other_user' } })
    })

    it('binds no client id of a message rejected for its segment', async () => {
      const { check, device, name } = await conversation(bindings, { segment: 1, cachedOpen: 2 })
      const mallory = device()

      const result = await check(
        changeOf(mallory, (doc) => sendMessage(doc, { authorId: MALLORY, text: 'too late' })),
        MALLORY,
      )

      expect(result.ok).toBe(false)
      expect((await bindings.owners(name)).has(mallory.clientID)).toBe(false)
    })
  })

  describe('regressions', () => {
    // Yjs applies only the last section of a client while the checked diff kept both, so
    // the second section's origin pointed at a different item and authorId became Alice's.
    it('rejects a client listed in two sections', async () => {
      const { check } = await conversation()
      const helper = nextClientId()
      const mallory = nextClientId()
      const map = Y.createID(helper, 0)
      const update = encodeUpdate(
        [
          {
            client: helper,
            clock: 0,
            structs: [
              forgeItem(map, { parent: 'messages', content: mapContent() }),
              forgeItem(Y.createID(helper, 1), {
                parent: map,
                key: 'id',
                content: anyContent('msg0000000000000000001'),
              }),
              forgeItem(Y.createID(helper, 2), {
                parent: map,
                key: 'createdAt',
                content: anyContent(1),
              }),
              forgeItem(Y.createID(helper, 3), {
                parent: map,
                key: 'text',
                content: anyContent('signed by Alice'),
              }),
            ],
          },
          {
            client: mallory,
            clock: 0,
            structs: [
              forgeItem(Y.createID(mallory, 0), {
                origin: Y.createID(helper, 3),
                content: anyContent('benign'),
              }),
            ],
          },
          {
            client: mallory,
            clock: 0,
            structs: [
              forgeItem(Y.createID(mallory, 0), {
                parent: map,
                key: 'authorId',
                content: anyContent(MALLORY),
              }),
              forgeItem(Y.createID(mallory, 1), {
                origin: Y.createID(mallory, 0),
                content: anyContent(ALICE),
              }),
            ],
          },
        ],
        [{ client: mallory, ranges: [[0, 1]] }],
      )
      const applied = new Y.Doc()
      Y.applyUpdate(applied, update)

      const result = await check(update, MALLORY)

      expect(findMessageEntry(applied, 'msg0000000000000000001')?.get('authorId')).toBe(ALICE)
      expect(result).toMatchObject({ ok: false, violation: { rule: 'client_repeated' } })
    })

    // An empty last section makes Yjs drop the client's structs that the diff still stored.
    it('rejects an empty repeated section', async () => {
      const { check, device } = await conversation()
      const mallory = device()
      const update = changeOf(mallory, (doc) =>
        sendMessage(doc, { authorId: MALLORY, text: 'stored but never applied' }),
      )
      const structs = Y.decodeUpdate(update).structs
      const forged = encodeUpdate([
        { client: mallory.clientID, clock: 0, structs },
        { client: mallory.clientID, clock: 0, structs: [] },
      ])

      const result = await check(forged, MALLORY)

      expect(result).toMatchObject({ ok: false, violation: { rule: 'client_repeated' } })
    })

    // Parent lookup stopped after 64 origins and cached the miss, so an offline device that
    // wrote 65 messages and then reloaded under a higher client id was rejected.
    it('accepts an origin chain of 100 items across two client ids', async () => {
      const { check, server } = await conversation()
      const offline = replicaOf(server, nextClientId())
      for (let index = 0; index < 100; index++) {
        sendMessage(offline, { authorId: ALICE, text: `offline ${index}` })
      }
      offline.clientID += 1_000_000
      sendMessage(offline, { authorId: ALICE, text: 'after a reload' })

      const result = await check(Y.encodeStateAsUpdate(offline, Y.encodeStateVector(server)), ALICE)

      expect(result.ok).toBe(true)
    })

    // A range that ran past the document's clocks skipped every check, so the author could
    // delete a message map and leave no placeholder.
    it('rejects a message map deletion past the clocks', async () => {
      const { check, server, write, device } = await conversation()
      const mallory = device()
      await write(mallory, MALLORY, (doc) =>
        sendMessage(doc, { authorId: MALLORY, text: 'gone without a trace' }),
      )
      const state = Y.getState(server.store, mallory.clientID)

      const result = await check(
        encodeUpdate([], [{ client: mallory.clientID, ranges: [[0, state + 10]] }]),
        MALLORY,
      )

      expect(result).toMatchObject({ ok: false, violation: { rule: 'delete_message' } })
    })

    it('accepts a deletion of own clocks still to come', async () => {
      const { check, server, write, device } = await conversation()
      const mallory = device()
      await write(mallory, MALLORY, (doc) => sendMessage(doc, { authorId: MALLORY, text: 'a' }))
      const state = Y.getState(server.store, mallory.clientID)

      const result = await check(
        encodeUpdate([], [{ client: mallory.clientID, ranges: [[state, 1]] }]),
        MALLORY,
      )

      expect(result).toEqual({ ok: true, novel: expect.any(Uint8Array) })
    })

    // Deleting a key set at creation removed the message from every reader's list.
    it.each(['id', 'authorId', 'createdAt', 'replyTo'])(
      'rejects a deletion of own %s',
      async (key) => {
        const { check, server, write, device } = await conversation()
        const mallory = device()
        let id = ''
        await write(mallory, MALLORY, (doc) => {
          id = sendMessage(doc, {
            authorId: MALLORY,
            text: 'a',
            replyTo: 'msg0000000000000000077' as MessageId,
          }).id
        })
        const field = currentItem(findMessageEntry(server, id)!, key)

        const result = await check(
          encodeUpdate([], [{ client: mallory.clientID, ranges: [[field.id.clock, 1]] }]),
          MALLORY,
        )

        expect(result).toMatchObject({
          ok: false,
          violation: { rule: 'message_immutable_key', detail: key },
        })
      },
    )

    it('rejects a deletion of own text without a new text', async () => {
      const { check, write, device } = await conversation()
      const mallory = device()
      let id = ''
      await write(mallory, MALLORY, (doc) => {
        id = sendMessage(doc, { authorId: MALLORY, text: 'a' }).id
      })

      const result = await check(
        changeOf(mallory, (doc) => findMessageEntry(doc, id)!.delete('text')),
        MALLORY,
      )

      expect(result).toMatchObject({
        ok: false,
        violation: { rule: 'message_missing_key', detail: 'text' },
      })
    })

    // The required-key check counted a value that the same update deleted again.
    it('rejects a new message whose id the same update deletes', async () => {
      const { check } = await conversation()
      const client = nextClientId()
      const map = Y.createID(client, 0)
      const fields = validFields(MALLORY)
      const update = encodeUpdate(
        [
          {
            client,
            clock: 0,
            structs: [
              forgeItem(map, { parent: 'messages', content: mapContent() }),
              ...Object.entries(fields).map(([key, value], index) =>
                forgeItem(Y.createID(client, index + 1), {
                  parent: map,
                  key,
                  content: anyContent(value),
                }),
              ),
            ],
          },
        ],
        [{ client, ranges: [[1, 1]] }],
      )

      const result = await check(update, MALLORY)

      expect(result).toMatchObject({
        ok: false,
        violation: { rule: 'message_missing_key', detail: 'id' },
      })
    })

    // Items stored before client ids were bound (or written to the store directly) had no
    // owner, so the first user to write with their client id could edit them.
    it('rejects a client id that has stored items but no binding', async () => {
      const { check, server } = await conversation()
      const legacy = replicaOf(server, nextClientId())
      const message = sendMessage(legacy, { authorId: ALICE, text: 'written before bindings' })
      Y.applyUpdate(server, Y.encodeStateAsUpdate(legacy))

      const result = await check(
        changeOf(legacy, (doc) =>
          editMessage(doc, { messageId: message.id, userId: ALICE, text: 'rewritten' }),
        ),
        MALLORY,
      )

      expect(result).toMatchObject({
        ok: false,
        reason: 'client_id_taken',
        violation: { rule: 'client_id_unbound' },
      })
    })

    // Each instance cached the bindings of a loaded document, so an item relayed from another
    // instance looked ownerless and its author's own edits and deletions were rejected.
    describe('with bindings made on another instance', () => {
      async function twoInstances() {
        const first = new ClientBindings(opened.db)
        const second = new ClientBindings(opened.db)
        const world = await conversation(first)
        const relay = (update: Uint8Array) => Y.applyUpdate(world.server, update)
        // The first instance caches the bindings before Alice writes on the second one.
        await first.owners(world.name)
        const alice = world.device()
        let id = ''
        const created = changeOf(alice, (doc) => {
          id = sendMessage(doc, { authorId: ALICE, text: 'via the second instance' }).id
          toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '👍' })
        })
        const accepted = await world.check(created, ALICE, second)
        if (!accepted.ok) throw new Error('the second instance rejected Alice’s message')
        relay(created)
        return { ...world, first, id: id as MessageId }
      }

      it('accepts the author’s edit from another device', async () => {
        const { check, device, first, id } = await twoInstances()

        const result = await check(
          changeOf(device(), (doc) =>
            editMessage(doc, { messageId: id, userId: ALICE, text: 'edited on the first' }),
          ),
          ALICE,
          first,
        )

        expect(result.ok).toBe(true)
      })

      it('accepts the author’s reaction removal from another device', async () => {
        const { check, device, first, id } = await twoInstances()

        const result = await check(
          changeOf(device(), (doc) =>
            toggleReaction(doc, { messageId: id, userId: ALICE, emoji: '👍' }),
          ),
          ALICE,
          first,
        )

        expect(result.ok).toBe(true)
      })

      it('still rejects another user’s edit', async () => {
        const { check, device, first, id } = await twoInstances()

        const result = await check(
          changeOf(device(), (doc) => findMessageEntry(doc, id)!.set('text', 'hijacked')),
          MALLORY,
          first,
        )

        expect(result).toMatchObject({ ok: false, violation: { rule: 'message_of_other_user' } })
      })
    })
  })

  describe('bindings and moderation', () => {
    it('binds no client id of a rejected update', async () => {
      const { check, device, name, aliceMessage } = await conversation()
      const { id } = await aliceMessage()
      const mallory = device()
      const update = changeOf(mallory, (doc) => {
        findMessageEntry(doc, id)?.set('text', 'forged')
      })

      const result = await check(update, MALLORY)

      expect(result.ok).toBe(false)
      expect((await bindings.owners(name)).has(mallory.clientID)).toBe(false)
    })

    /** Removes a message as the server does: placeholder in moderation, text emptied. */
    function moderate(server: Y.Doc, messageId: string): void {
      server.transact(() => {
        server.getMap('moderation').set(messageId, { by: 'admin', at: 1 })
        findMessageEntry(server, messageId)?.set('text', '')
      })
    }

    it('lets the author delete a removed message', async () => {
      const { server, pull, write, aliceMessage } = await conversation()
      const { alice, id } = await aliceMessage()
      moderate(server, id)
      pull(alice)

      const result = await write(alice, ALICE, (doc) =>
        deleteMessage(doc, { messageId: id, userId: ALICE }),
      )

      expect(result.ok).toBe(true)
    })

    it('rejects new text in a removed message', async () => {
      const { server, pull, check, aliceMessage } = await conversation()
      const { alice, id } = await aliceMessage()
      moderate(server, id)
      pull(alice)
      const update = changeOf(alice, (doc) => {
        findMessageEntry(doc, id)?.set('text', 'back again')
      })

      const result = await check(update, ALICE)

      expect(result).toMatchObject({ ok: false, violation: { rule: 'message_moderated' } })
    })
  })
})

/** Returns the item that contains the current value of a map key. */
function currentItem(map: Y.Map<unknown>, key: string): Y.Item {
  const item = map._map.get(key)
  if (!item) throw new Error(`the map has no key ${key}`)
  return item
}

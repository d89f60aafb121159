import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  deleteMessage,
  editMessage,
  listMessages,
  MESSAGES_ROOT,
  messagesOf,
  MODERATION_ROOT,
  parseReactionKey,
  READS_ROOT,
  REACTIONS_ROOT,
  readMessage,
  sendMessage,
  setReadMarker,
  SYSTEM_ROOT,
  toggleReaction,
} from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import type { ConversationId, MessageId, UserId } from '../../shared/ids.ts'
import { appendSystemEvent } from '../../sync-server/sync/system-events.ts'
import {
  type ClientBindingStore,
  SERVER_OWNER,
} from '../../sync-server/sync/validation/client-bindings.ts'
import { validateUpdate } from '../../sync-server/sync/validation/validate-update.ts'
import { type ApiUser, createApiUser, createGroup, waitFor } from '../helpers/clients.ts'
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
import { FROM_SERVER, RawSyncClient, SyncStep } from '../helpers/raw-sync.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/**
 * Sizes of the runs, which PROPERTY_SCALE multiplies. They were measured with `npx vitest run`
 * of this file on the 2-core development machine, shared with other test runs (load average
 * 5 to 8). There 10,000 in-process sequences took 45 to 54 s (30 to 35 s of CPU), and 250
 * live sequences took 43 s (34 s of CPU). Under a load average of 15 the first took 68 s.
 */
const SCALE = Number(process.env.PROPERTY_SCALE ?? '1')
const IN_PROCESS_SEQUENCES = Math.round(10_000 * SCALE)
const LIVE_SEQUENCES = Math.round(250 * SCALE)
/** First seed of each run; a failure message names the seed that reproduces it. */
const IN_PROCESS_SEED = Number(process.env.PROPERTY_SEED ?? '1')
const LIVE_SEED = 1_000_000 + IN_PROCESS_SEED

// ---------------------------------------------------------------------------------------------
// Seeded random numbers

/** A xorshift32 generator: the same seed gives the same sequence on every run. */
class SeededRandom {
  private state: number

  constructor(seed: number) {
    // Spreads nearby seeds apart; xorshift must never hold 0.
    this.state = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0 || 0x1234567
    for (let index = 0; index < 8; index++) this.next()
  }

  next(): number {
    let x = this.state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.state = x >>> 0
    return this.state
  }

  /** Returns an integer in [0, n). */
  int(n: number): number {
    return this.next() % n
  }

  /** Returns an integer in [low, high]. */
  between(low: number, high: number): number {
    return low + this.int(high - low + 1)
  }

  chance(probability: number): boolean {
    return this.next() / 0x100000000 < probability
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.int(items.length)]
  }
}

// ---------------------------------------------------------------------------------------------
// The model: users, devices and the generator's record of them

interface Device {
  label: string
  user: SimUser
  doc: Y.Doc
  online: boolean
}

interface SimUser {
  id: string
  role: 'admin' | 'member'
  devices: Device[]
}

/**
 * Client id bindings in memory, with the rule of the database implementation: the first
 * owner to write with an id keeps it, per document.
 */
class MemoryBindings implements ClientBindingStore {
  private readonly byDocument = new Map<string, Map<number, string>>()

  owners(documentName: string): Promise<Map<number, string>> {
    let owners = this.byDocument.get(documentName)
    if (!owners) {
      owners = new Map()
      this.byDocument.set(documentName, owners)
    }
    return Promise.resolve(owners)
  }

  async bind(documentName: string, clients: number[], owner: string): Promise<number[]> {
    const owners = await this.owners(documentName)
    for (const client of clients) if (!owners.has(client)) owners.set(client, owner)
    return clients.filter((client) => owners.get(client) !== owner)
  }

  forget(): void {
    // The bindings live only here, so there is no cache to drop.
  }
}

/** A violation of the oracle, with what reproduces it. */
class PropertyFailure extends Error {}

/**
 * Checks the server's document against the generator's record, never against what the
 * validator decided: which user controls each client id, which messages honest users wrote
 * and deleted, and which user sent each update that the server applied.
 */
class Oracle {
  /** The user that controls each client id, or SERVER_OWNER. */
  readonly controller = new Map<number, string>()
  /** Every message an honest device wrote, by id, with its author. */
  readonly written = new Map<string, string>()
  /** Messages their authors deleted. */
  readonly deleted = new Set<string>()
  private step = ''

  constructor(private readonly label: string) {}

  at(step: string): void {
    this.step = step
  }

  fail(message: string): never {
    throw new PropertyFailure(`${this.label}, ${this.step}: ${message}`)
  }

  /** Checks one server transaction: its new items and deletions belong to its writer. */
  observe(writer: string, transaction: Y.Transaction): void {
    for (const [client, clock] of transaction.afterState) {
      if (clock <= (transaction.beforeState.get(client) ?? 0)) continue
      const owner = this.controller.get(client)
      if (owner !== writer) {
        this.fail(`an update of ${writer} created items of client ${client} (${owner})`)
      }
    }
    for (const client of transaction.deleteSet.clients.keys()) {
      const owner = this.controller.get(client)
      if (owner !== writer) {
        this.fail(`an update of ${writer} deleted items of client ${client} (${owner})`)
      }
    }
  }

  /** Checks the whole document: authorship, shape, and that no honest message is lost. */
  checkDocument(doc: Y.Doc): void {
    const roots = new Set([MESSAGES_ROOT, REACTIONS_ROOT, READS_ROOT, SYSTEM_ROOT, MODERATION_ROOT])
    for (const name of doc.share.keys()) {
      if (!roots.has(name)) this.fail(`the document has the unknown root ${name}`)
    }

    const seen = new Set<string>()
    for (const entry of messagesOf(doc)) {
      const item = entry._item
      if (!(entry instanceof Y.Map) || !item) this.fail('an entry of messages is not a map')
      const author = this.controller.get(item.id.client)
      const message = readMessage(entry, doc)
      if (!message) this.fail(`message map ${item.id.client}:${item.id.clock} is malformed`)
      if (message.authorId !== author) {
        this.fail(`message ${message.id} names ${message.authorId} but ${author} created it`)
      }
      for (const [key, field] of entry._map) {
        if (field.deleted) continue
        const owner = this.controller.get(field.id.client)
        if (owner !== author) this.fail(`${owner} wrote ${key} of ${author}'s message`)
      }
      if (seen.has(message.id)) this.fail(`message ${message.id} appears twice`)
      seen.add(message.id)
      if (this.written.get(message.id) !== author) {
        this.fail(`message ${message.id} was not written by an honest ${author}`)
      }
      // A concurrent edit from the author's other device may win over the emptied text, but
      // not over the deletion mark.
      if (this.deleted.has(message.id) && !message.deleted) {
        this.fail(`message ${message.id} lost its deletion`)
      }
    }
    for (const id of this.written.keys()) {
      if (!seen.has(id)) this.fail(`message ${id} of ${this.written.get(id)} is missing`)
    }

    for (const [key, item] of doc.getMap(REACTIONS_ROOT)._map) {
      if (item.deleted) continue
      const owner = this.controller.get(item.id.client)
      if (parseReactionKey(key)?.userId !== owner) this.fail(`${owner} wrote reaction ${key}`)
      if (doc.getMap(REACTIONS_ROOT).get(key) !== true) this.fail(`reaction ${key} is not true`)
    }
    for (const [userId, item] of doc.getMap(READS_ROOT)._map) {
      if (item.deleted) continue
      const owner = this.controller.get(item.id.client)
      if (owner !== userId) this.fail(`${owner} wrote the read marker of ${userId}`)
    }
    for (const [name, root] of [
      [SYSTEM_ROOT, doc.getArray(SYSTEM_ROOT)],
      [MODERATION_ROOT, doc.getMap(MODERATION_ROOT)],
    ] as const) {
      for (const item of itemsOf(root)) {
        const owner = this.controller.get(item.id.client)
        if (owner !== SERVER_OWNER) this.fail(`${owner} wrote ${name}`)
      }
    }
  }
}

/** Returns the comparable state of a document (JSON, state vector, delete set) as a string. */
function stateJson(doc: Y.Doc): string {
  return JSON.stringify(documentState(doc))
}

/** Names the parts of the state in which two copies differ, with both values. */
function difference(a: Y.Doc, b: Y.Doc): string {
  const left = documentState(a)
  const right = documentState(b)
  const parts: string[] = []
  const compare = (label: string, leftValue: unknown, rightValue: unknown) => {
    const leftJson = JSON.stringify(leftValue)
    const rightJson = JSON.stringify(rightValue)
    if (leftJson !== rightJson) parts.push(`${label}: ${leftJson} against ${rightJson}`)
  }
  for (const root of Object.keys(right.json)) {
    compare(root, left.json[root], right.json[root])
  }
  compare('unknown roots', left.unknownRoots, right.unknownRoots)
  compare('state vector', left.stateVector, right.stateVector)
  compare('delete set', left.deleted, right.deleted)
  return parts.join('; ')
}

/** Lists the items directly inside a type, deleted ones included. */
function itemsOf(type: ReturnType<Y.Doc['get']>): Y.Item[] {
  const items: Y.Item[] = [...type._map.values()]
  for (let item = type._start; item; item = item.right) items.push(item)
  return items
}

// ---------------------------------------------------------------------------------------------
// How updates reach a server

/** The server side of a run: the in-process validator, or a live server. */
interface Transport {
  /** Syncs an offline device both ways, as a reconnecting provider does. */
  connect(device: Device): Promise<void>
  disconnect(device: Device): Promise<void>
  /** Sends a device's update; returns the refusal reason, or undefined when it was accepted. */
  send(device: Device, update: Uint8Array): Promise<string | undefined>
  /** Sends a forged update as a user; returns the refusal reason, or undefined when accepted. */
  attack(userId: string, update: Uint8Array): Promise<string | undefined>
  /** Returns a copy of the server's current document for forging, under the given client id. */
  serverReplica(clientId: number): Promise<Y.Doc>
  /** Applies to an online device what the server has relayed to it so far. */
  deliver(device: Device): Promise<void>
  /**
   * Waits until an online device has everything the server relayed. Returns whether the
   * device's document then has `serverState`: the same JSON, state vector and delete set,
   * read once the server has stopped changing.
   */
  converge(device: Device, serverState: string): Promise<boolean>
  /** Demotes an admin; the server records the change in `system`, maybe later. */
  demote(user: SimUser, by: SimUser): Promise<void>
  /** Waits for server-side changes still in flight, such as a demotion. */
  settle(): Promise<void>
  /** Lets the server write a system event on its own. */
  serverEvent(actor: SimUser): Promise<void>
  serverDoc(): Y.Doc
}

/** The server as a Y.Doc and validateUpdate with MemoryBindings, relaying to device inboxes. */
class InProcessTransport implements Transport {
  readonly server = new Y.Doc()
  private readonly bindings = new MemoryBindings()
  private readonly inboxes = new Map<Device, Uint8Array[]>()
  private readonly name = 'conv:property-in-process'

  constructor(private readonly oracle: Oracle) {}

  async start(serverClientId: number): Promise<void> {
    this.server.clientID = serverClientId
    this.oracle.controller.set(serverClientId, SERVER_OWNER)
    await this.bindings.bind(this.name, [serverClientId], SERVER_OWNER)
  }

  async connect(device: Device): Promise<void> {
    const missing = Y.encodeStateAsUpdate(this.server, Y.encodeStateVector(device.doc))
    Y.applyUpdate(device.doc, missing, FROM_SERVER)
    device.online = true
    this.inboxes.set(device, [])
    const stepTwo = Y.encodeStateAsUpdate(device.doc, Y.encodeStateVector(this.server))
    const refusal = await this.apply(stepTwo, device.user.id)
    if (refusal) this.oracle.fail(`${device.label}'s sync step 2 was refused: ${refusal}`)
  }

  disconnect(device: Device): Promise<void> {
    device.online = false
    this.inboxes.delete(device)
    return Promise.resolve()
  }

  send(device: Device, update: Uint8Array): Promise<string | undefined> {
    return this.apply(update, device.user.id)
  }

  attack(userId: string, update: Uint8Array): Promise<string | undefined> {
    return this.apply(update, userId)
  }

  serverReplica(clientId: number): Promise<Y.Doc> {
    return Promise.resolve(replicaOf(this.server, clientId))
  }

  deliver(device: Device): Promise<void> {
    const inbox = this.inboxes.get(device)
    if (inbox) {
      for (const update of inbox.splice(0)) Y.applyUpdate(device.doc, update, FROM_SERVER)
    }
    return Promise.resolve()
  }

  settle(): Promise<void> {
    return Promise.resolve()
  }

  async converge(device: Device, serverState: string): Promise<boolean> {
    await this.deliver(device)
    return stateJson(device.doc) === serverState
  }

  demote(user: SimUser): Promise<void> {
    user.role = 'member'
    this.serverWrite((doc) =>
      appendSystemEvent(
        doc,
        { type: 'role_changed', actorId: user.id as UserId, role: 'member' },
        1,
      ),
    )
    return Promise.resolve()
  }

  serverEvent(actor: SimUser): Promise<void> {
    this.serverWrite((doc) =>
      appendSystemEvent(
        doc,
        { type: 'renamed', actorId: actor.id as UserId, title: 'renamed by the server' },
        1,
      ),
    )
    return Promise.resolve()
  }

  serverDoc(): Y.Doc {
    return this.server
  }

  private serverWrite(change: (doc: Y.Doc) => void): void {
    this.observed(SERVER_OWNER, () => this.server.transact(() => change(this.server), SERVER_OWNER))
  }

  private async apply(update: Uint8Array, writer: string): Promise<string | undefined> {
    const result = await validateUpdate(this.server, this.name, update, writer, this.bindings)
    if (!result.ok) return result.reason
    this.observed(writer, () => Y.applyUpdate(this.server, update, writer))
    return undefined
  }

  /** Runs a change of the server's document, checking it and relaying what it produced. */
  private observed(writer: string, change: () => void): void {
    const produced: Uint8Array[] = []
    const onUpdate = (update: Uint8Array) => produced.push(update)
    const onTransaction = (transaction: Y.Transaction) => this.oracle.observe(writer, transaction)
    this.server.on('update', onUpdate)
    this.server.on('afterTransaction', onTransaction)
    try {
      change()
    } finally {
      this.server.off('update', onUpdate)
      this.server.off('afterTransaction', onTransaction)
    }
    for (const inbox of this.inboxes.values()) inbox.push(...produced)
  }
}

// ---------------------------------------------------------------------------------------------
// Forged updates

interface AttackInput {
  random: SeededRandom
  attacker: SimUser
  /** Another user of the sequence. */
  victim: SimUser
  /** Returns a replica of the server's state under a client id new to the document. */
  replica(): Promise<Y.Doc>
  /** The server's state, read only. */
  view: Y.Doc
  /** Client ids bound to another user or to the server, which the attacker may reuse. */
  stolenIds: number[]
}

type AttackBuilder = (
  input: AttackInput,
) => Uint8Array | undefined | Promise<Uint8Array | undefined>

const MESSAGE_TEMPLATE = (authorId: string, random: SeededRandom) => ({
  id: `forged${random.next().toString(36)}abc`,
  authorId,
  text: 'forged',
  createdAt: 1_700_000_000_000,
})

function messagesBy(doc: Y.Doc, predicate: (authorId: string) => boolean): Y.Map<unknown>[] {
  return messagesOf(doc)
    .toArray()
    .filter((entry) => {
      const message = readMessage(entry, doc)
      return message !== undefined && predicate(message.authorId)
    })
}

function idOf(entry: Y.Map<unknown>): string {
  return String(entry.get('id'))
}

function insertEntry(doc: Y.Doc, fields: Record<string, unknown>): void {
  const entry = new Y.Map<unknown>()
  for (const [key, value] of Object.entries(fields)) entry.set(key, value)
  messagesOf(doc).insert(messagesOf(doc).length, [entry])
}

/** Applies a change to the message with a given id in a fresh replica, as a forged update. */
async function changeMessage(
  input: AttackInput,
  id: string,
  change: (entry: Y.Map<unknown>, doc: Y.Doc) => void,
): Promise<Uint8Array> {
  const replica = await input.replica()
  return changeOf(replica, (doc) => {
    const entry = messagesOf(doc)
      .toArray()
      .find((candidate) => candidate.get('id') === id)
    if (!entry) throw new Error(`message ${id} is not in the replica`)
    change(entry, doc)
  })
}

const otherMessage = (input: AttackInput) =>
  input.random.pick(messagesBy(input.view, (author) => author !== input.attacker.id))
const ownMessage = (input: AttackInput) =>
  input.random.pick(messagesBy(input.view, (author) => author === input.attacker.id))

/** Every forged update the generator may send; each must be refused. */
const ATTACKS: Record<string, AttackBuilder> = {
  edit_other_text: async (input) => {
    const target = otherMessage(input)
    return target && changeMessage(input, idOf(target), (entry) => entry.set('text', 'mine'))
  },
  mark_other_deleted: async (input) => {
    const target = otherMessage(input)
    return target && changeMessage(input, idOf(target), (entry) => entry.set('deleted', true))
  },
  change_other_author: async (input) => {
    const target = otherMessage(input)
    return (
      target &&
      changeMessage(input, idOf(target), (entry) => entry.set('authorId', input.attacker.id))
    )
  },
  change_own_author: async (input) => {
    const target = ownMessage(input)
    return (
      target &&
      changeMessage(input, idOf(target), (entry) => entry.set('authorId', input.victim.id))
    )
  },
  change_own_created_at: async (input) => {
    const target = ownMessage(input)
    return target && changeMessage(input, idOf(target), (entry) => entry.set('createdAt', 0))
  },
  delete_other_map: async (input) => {
    const target = otherMessage(input)
    return (
      target &&
      changeMessage(input, idOf(target), (entry, doc) => {
        messagesOf(doc).delete(messagesOf(doc).toArray().indexOf(entry), 1)
      })
    )
  },
  delete_own_map: async (input) => {
    const target = ownMessage(input)
    return (
      target &&
      changeMessage(input, idOf(target), (entry, doc) => {
        messagesOf(doc).delete(messagesOf(doc).toArray().indexOf(entry), 1)
      })
    )
  },
  delete_other_field: (input) => {
    const target = otherMessage(input)
    const field = target?._map.get(input.random.pick(['text', 'id', 'authorId']) ?? 'text')
    if (!field || field.deleted) return undefined
    return encodeUpdate([], [{ client: field.id.client, ranges: [[field.id.clock, 1]] }])
  },
  delete_own_id: (input) => {
    const field = ownMessage(input)?._map.get('id')
    if (!field || field.deleted) return undefined
    return encodeUpdate([], [{ client: field.id.client, ranges: [[field.id.clock, 1]] }])
  },
  delete_own_map_past_state: (input) => {
    const map = ownMessage(input)?._item
    if (!map) return undefined
    return encodeUpdate([], [{ client: map.id.client, ranges: [[map.id.clock, 1_000_000]] }])
  },
  impersonate: async (input) =>
    changeOf(await input.replica(), (doc) =>
      sendMessage(doc, { authorId: input.victim.id as UserId, text: 'impersonated' }),
    ),
  other_reaction: async (input) => {
    const target = input.random.pick(messagesBy(input.view, () => true))
    const messageId = target ? idOf(target) : 'nomessage'
    return changeOf(await input.replica(), (doc) =>
      doc.getMap(REACTIONS_ROOT).set(`${messageId}:${input.victim.id}:👍`, true),
    )
  },
  delete_other_reaction: async (input) => {
    const key = input.random.pick(
      [...input.view.getMap(REACTIONS_ROOT).keys()].filter(
        (candidate) => parseReactionKey(candidate)?.userId !== input.attacker.id,
      ),
    )
    if (key === undefined) return undefined
    return changeOf(await input.replica(), (doc) => doc.getMap(REACTIONS_ROOT).delete(key))
  },
  other_read_marker: async (input) =>
    changeOf(await input.replica(), (doc) =>
      setReadMarker(doc, { userId: input.victim.id as UserId, messageId: 'm1' as MessageId }),
    ),
  write_system: async (input) =>
    changeOf(await input.replica(), (doc) =>
      doc.getArray(SYSTEM_ROOT).push([{ id: 'forged', type: 'renamed', title: 'x' }]),
    ),
  write_moderation: async (input) =>
    changeOf(await input.replica(), (doc) =>
      doc.getMap(MODERATION_ROOT).set('m1', { by: input.attacker.id, at: 1 }),
    ),
  unknown_root: async (input) =>
    changeOf(await input.replica(), (doc) => doc.getMap('settings').set('k', 'v')),
  stolen_client_id: (input) => {
    const stolen = input.random.pick(input.stolenIds)
    if (stolen === undefined) return undefined
    return changeOf(replicaOf(input.view, stolen), (doc) =>
      sendMessage(doc, { authorId: input.attacker.id as UserId, text: 'stolen id' }),
    )
  },
  text_too_large: async (input) =>
    changeOf(await input.replica(), (doc) =>
      insertEntry(doc, {
        ...MESSAGE_TEMPLATE(input.attacker.id, input.random),
        text: 'x'.repeat(16_385),
      }),
    ),
  wrong_type: async (input) => {
    const overrides = [
      { text: 1 },
      { createdAt: 'now' },
      { mentions: 'all' },
      { deleted: false },
      { editedAt: 'later' },
      { id: 5 },
    ]
    const override = input.random.pick(overrides) ?? {}
    return changeOf(await input.replica(), (doc) =>
      insertEntry(doc, { ...MESSAGE_TEMPLATE(input.attacker.id, input.random), ...override }),
    )
  },
  missing_key: async (input) => {
    const fields: Record<string, unknown> = MESSAGE_TEMPLATE(input.attacker.id, input.random)
    delete fields[input.random.pick(['id', 'authorId', 'text', 'createdAt']) ?? 'id']
    return changeOf(await input.replica(), (doc) => insertEntry(doc, fields))
  },
  non_map_entry: async (input) =>
    changeOf(await input.replica(), (doc) => messagesOf(doc).push(['text' as never])),
  nested_type: async (input) =>
    changeOf(await input.replica(), (doc) =>
      insertEntry(doc, {
        ...MESSAGE_TEMPLATE(input.attacker.id, input.random),
        mentions: new Y.Array(),
      }),
    ),
  unknown_key: async (input) => {
    const target = ownMessage(input)
    return target && changeMessage(input, idOf(target), (entry) => entry.set('pinned', true))
  },
  reaction_value: async (input) =>
    changeOf(await input.replica(), (doc) =>
      doc.getMap(REACTIONS_ROOT).set(`m1:${input.attacker.id}:👍`, 'yes'),
    ),
  read_marker_value: async (input) =>
    changeOf(await input.replica(), (doc) =>
      doc.getMap(READS_ROOT).set(input.attacker.id, { messageId: 1 }),
    ),
  messages_key: async (input) => {
    const client = (await input.replica()).clientID
    return encodeUpdate([
      {
        client,
        clock: 0,
        structs: [
          forgeItem(Y.createID(client, 0), {
            parent: MESSAGES_ROOT,
            key: 'k',
            content: anyContent(1),
          }),
        ],
      },
    ])
  },
  repeated_section: async (input) => {
    const helper = (await input.replica()).clientID
    const forger = (await input.replica()).clientID
    const map = Y.createID(helper, 0)
    const fields = MESSAGE_TEMPLATE(input.attacker.id, input.random)
    return encodeUpdate(
      [
        {
          client: helper,
          clock: 0,
          structs: [
            forgeItem(map, { parent: MESSAGES_ROOT, content: mapContent() }),
            forgeItem(Y.createID(helper, 1), {
              parent: map,
              key: 'id',
              content: anyContent(fields.id),
            }),
            forgeItem(Y.createID(helper, 2), {
              parent: map,
              key: 'createdAt',
              content: anyContent(1),
            }),
            forgeItem(Y.createID(helper, 3), {
              parent: map,
              key: 'text',
              content: anyContent('t'),
            }),
          ],
        },
        {
          client: forger,
          clock: 0,
          structs: [
            forgeItem(Y.createID(forger, 0), {
              origin: Y.createID(helper, 3),
              content: anyContent('t'),
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
              content: anyContent(input.attacker.id),
            }),
            forgeItem(Y.createID(forger, 1), {
              origin: Y.createID(forger, 0),
              content: anyContent(input.victim.id),
            }),
          ],
        },
      ],
      [{ client: forger, ranges: [[0, 1]] }],
    )
  },
  truncated: async (input) => {
    const update = changeOf(await input.replica(), (doc) =>
      sendMessage(doc, { authorId: input.attacker.id as UserId, text: 'cut' }),
    )
    return update.slice(0, 1 + input.random.int(update.length - 1))
  },
}
const ATTACK_KINDS = Object.keys(ATTACKS)

// ---------------------------------------------------------------------------------------------
// A generated sequence

interface SequenceOptions {
  /** Range of the number of steps, drawn from the seed. */
  steps: [min: number, max: number]
}

/** Counts of what the runs did, for the summary line. */
class Counts {
  sequences = 0
  honestUpdates = 0
  reconnects = 0
  demotions = 0
  readonly attacks = new Map<string, number>()

  add(kind: string): void {
    this.attacks.set(kind, (this.attacks.get(kind) ?? 0) + 1)
  }

  get attackTotal(): number {
    return [...this.attacks.values()].reduce((sum, count) => sum + count, 0)
  }

  summary(): string {
    return (
      `${this.sequences} sequences, ${this.honestUpdates} honest updates, ` +
      `${this.reconnects} reconnects, ${this.demotions} demotions, ` +
      `${this.attackTotal} attacks of ${this.attacks.size} kinds`
    )
  }
}

/**
 * Generates and runs one sequence of operations and attacks against a transport, checking
 * the oracle along the way and at the end, where every device and the server must hold the
 * same document.
 */
async function runSequence(
  seed: number,
  users: SimUser[],
  transport: Transport,
  oracle: Oracle,
  options: SequenceOptions,
  counts: Counts,
  freshClientId: () => number,
): Promise<void> {
  const random = new SeededRandom(seed)
  const devices = users.flatMap((user) => user.devices)
  const steps = random.between(...options.steps)
  const admin = users[0]
  const demoted = users.length > 1 && random.chance(0.5) ? users[1] : undefined
  const demotionStep = random.int(steps)

  for (let step = 0; step < steps; step++) {
    if (demoted && admin && step === demotionStep) {
      oracle.at(`step ${step}: demotion of ${demoted.id}`)
      for (const device of demoted.devices) {
        if (device.online) await transport.disconnect(device)
      }
      await transport.demote(demoted, admin)
      counts.demotions++
      // The demoted admin keeps writing while offline.
      for (const device of demoted.devices) {
        const text = 'written after demotion'
        const message = sendMessage(device.doc, { authorId: demoted.id as UserId, text })
        oracle.written.set(message.id, demoted.id)
      }
      continue
    }

    const roll = random.int(100)
    const user = random.pick(users)
    const device = user && random.pick(user.devices)
    if (!user || !device) continue

    if (roll < 48) {
      oracle.at(`step ${step}: ${device.label} writes`)
      if (device.online && random.chance(0.7)) await transport.deliver(device)
      const update = captureUpdate(device.doc, () => honestChange(random, device, oracle))
      if (update && device.online) {
        const refusal = await transport.send(device, update)
        if (refusal) oracle.fail(`an honest update of ${device.label} was refused: ${refusal}`)
        counts.honestUpdates++
      }
    } else if (roll < 58) {
      oracle.at(`step ${step}: ${device.label} goes offline`)
      if (device.online) await transport.disconnect(device)
    } else if (roll < 70) {
      oracle.at(`step ${step}: ${device.label} reconnects`)
      if (!device.online) {
        // A browser that reloads while offline continues under a new client id.
        if (random.chance(0.2)) {
          device.doc.clientID = freshClientId()
          oracle.controller.set(device.doc.clientID, user.id)
        }
        await transport.connect(device)
        counts.reconnects++
      }
    } else if (roll < 74) {
      oracle.at(`step ${step}: ${device.label} receives`)
      await transport.deliver(device)
    } else if (roll < 77) {
      oracle.at(`step ${step}: the server writes`)
      await transport.serverEvent(user)
    } else {
      const victim = random.pick(users.filter((candidate) => candidate !== user))
      const kind = random.pick(ATTACK_KINDS)
      if (!victim || !kind) continue
      oracle.at(`step ${step}: ${user.id} attacks with ${kind}`)
      const view = transport.serverDoc()
      // Client ids of others that the server has items of, so bound to them, and the
      // server's own. Reusing an id before its owner writes with it is not refused.
      const stolenIds: number[] = []
      for (const [client, owner] of oracle.controller) {
        const hasItems = Y.getState(view.store, client) > 0
        if (owner === SERVER_OWNER || (owner !== user.id && hasItems)) stolenIds.push(client)
      }
      const input: AttackInput = {
        random,
        attacker: user,
        victim,
        view,
        stolenIds,
        replica: async () => {
          const clientId = freshClientId()
          oracle.controller.set(clientId, user.id)
          return transport.serverReplica(clientId)
        },
      }
      const update = await ATTACKS[kind]?.(input)
      if (!update) continue
      const refusal = await transport.attack(user.id, update)
      if (!refusal) oracle.fail(`the forged update ${kind} of ${user.id} was accepted`)
      counts.add(kind)
    }
  }

  // Every device comes online and receives everything, so all copies must be equal.
  oracle.at('final sync')
  await transport.settle()
  for (const device of devices) {
    if (!device.online) await transport.connect(device)
  }
  const server = transport.serverDoc()
  oracle.checkDocument(server)
  const serverState = stateJson(server)
  for (const device of devices) {
    if (!(await transport.converge(device, serverState))) {
      oracle.fail(`${device.label} differs from the server in ${difference(device.doc, server)}`)
    }
  }
  counts.sequences++
}

/** Runs a change and returns the update it produced, or undefined when it changed nothing. */
function captureUpdate(doc: Y.Doc, change: () => void): Uint8Array | undefined {
  const updates: Uint8Array[] = []
  const onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== FROM_SERVER) updates.push(update)
  }
  doc.on('update', onUpdate)
  try {
    change()
  } finally {
    doc.off('update', onUpdate)
  }
  if (updates.length === 0) return undefined
  return updates.length === 1 ? updates[0] : Y.mergeUpdates(updates)
}

const EMOJI = ['👍', '🎉', '👀', '❤️']

/** Makes one change that the app would make for a user, on one of their devices. */
function honestChange(random: SeededRandom, device: Device, oracle: Oracle): void {
  const userId = device.user.id as UserId
  const doc = device.doc
  const messages = listMessages(doc)
  const own = messages.filter((message) => message.authorId === userId && !message.deleted)
  const kind = random.int(100)
  if (kind < 35 || messages.length === 0) {
    const replyTo = random.chance(0.2) ? random.pick(messages)?.id : undefined
    const mentions = random.chance(0.2) ? [random.pick(messages)?.authorId ?? userId] : []
    const text = random.chance(0.01) ? 'é'.repeat(8192) : `message ${random.next().toString(36)}`
    const message = sendMessage(doc, { authorId: userId, text, replyTo, mentions })
    oracle.written.set(message.id, userId)
  } else if (kind < 50 && own.length > 0) {
    const target = random.pick(own)
    if (target) editMessage(doc, { messageId: target.id, userId, text: `edited ${random.next()}` })
  } else if (kind < 60 && own.length > 0) {
    const target = random.pick(own)
    if (target && deleteMessage(doc, { messageId: target.id, userId }).ok) {
      oracle.deleted.add(target.id)
    }
  } else if (kind < 85) {
    const target = random.pick(messages)
    const emoji = random.pick(EMOJI)
    if (target && emoji) toggleReaction(doc, { messageId: target.id, userId, emoji })
  } else {
    const target = messages[messages.length - 1]
    if (target) setReadMarker(doc, { userId, messageId: target.id, now: random.next() })
  }
}

/**
 * Describes the wall time and this process's CPU time since a start. The CPU time varies less
 * when other processes share the machine.
 */
function elapsed(started: number, cpuBefore: NodeJS.CpuUsage): string {
  const cpu = process.cpuUsage(cpuBefore)
  const wall = (performance.now() - started) / 1000
  return `${wall.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`
}

/** Creates the users and devices of a sequence, every device offline with an empty document. */
function createUsers(ids: string[], oracle: Oracle, freshClientId: () => number): SimUser[] {
  return ids.map((id, index) => {
    // The first two users are admins, so that the first can demote the second.
    const user: SimUser = { id, role: index < 2 ? 'admin' : 'member', devices: [] }
    for (const label of ['laptop', 'phone']) {
      // A fixed guid spares the random UUID that each Y.Doc draws otherwise.
      const doc = new Y.Doc({ guid: 'device' })
      doc.clientID = freshClientId()
      oracle.controller.set(doc.clientID, id)
      user.devices.push({ label: `${id}/${label}`, user, doc, online: false })
    }
    return user
  })
}

/** Returns a generator of client ids that are unique within one sequence. */
function clientIds(random: SeededRandom): () => number {
  const used = new Set<number>()
  return () => {
    let id = random.next() & 0x7fffffff
    while (used.has(id) || id === 0) id = random.next() & 0x7fffffff
    used.add(id)
    return id
  }
}

// ---------------------------------------------------------------------------------------------
// The runs

describe('authorship property', () => {
  it(`holds in process for ${IN_PROCESS_SEQUENCES} sequences`, async () => {
    const counts = new Counts()
    const started = performance.now()
    const cpuBefore = process.cpuUsage()
    for (let index = 0; index < IN_PROCESS_SEQUENCES; index++) {
      const seed = IN_PROCESS_SEED + index
      const random = new SeededRandom(seed ^ 0x7f4a7c15)
      const oracle = new Oracle(`in-process sequence with seed ${seed}`)
      const freshClientId = clientIds(random)
      const userIds = Array.from({ length: random.between(3, 10) }, (_, i) => `user${i}x${seed}`)
      const users = createUsers(userIds, oracle, freshClientId)
      const transport = new InProcessTransport(oracle)
      await transport.start(freshClientId())
      // Most devices start online, as after a first sync.
      for (const user of users) {
        for (const device of user.devices) {
          if (random.chance(0.8)) await transport.connect(device)
        }
      }
      await runSequence(seed, users, transport, oracle, { steps: [8, 30] }, counts, freshClientId)
    }
    console.log(`in-process: ${counts.summary()} in ${elapsed(started, cpuBefore)}`)

    expect(counts.sequences).toBe(IN_PROCESS_SEQUENCES)
    expect(counts.attacks.size).toBe(ATTACK_KINDS.length)
  }, 180_000)

  describe('against a live server', () => {
    let server: TestServer
    let pool: ApiUser[]
    let consoleErrors: CapturedErrors

    beforeAll(async () => {
      consoleErrors = captureConsoleErrors()
      server = await startTestServer({ database: 'pglite' })
      pool = []
      for (let index = 0; index < 5; index++) pool.push(await createApiUser(server.url, 'prop'))
    })
    afterAll(async () => {
      await server?.stop()
      await server?.database.drop()
      consoleErrors.restore()
    })

    it(`holds for ${LIVE_SEQUENCES} sequences`, async () => {
      const counts = new Counts()
      const started = performance.now()
      const cpuBefore = process.cpuUsage()
      const seeds = Array.from({ length: LIVE_SEQUENCES }, (_, index) => LIVE_SEED + index)
      // Each group write waits for the server to store a system event, so the groups are
      // created a few at a time in the background while the sequences run one by one.
      const limit = concurrencyLimit(4)
      const groups = seeds.map((seed) => limit(() => createLiveGroup(pool, seed)))
      // A failure is reported when its sequence awaits the group, not as unhandled.
      for (const group of groups) group.catch(() => {})
      for (const [index, seed] of seeds.entries()) {
        await runLiveSequence(server, await groups[index]!, seed, counts)
      }
      console.log(`live: ${counts.summary()} in ${elapsed(started, cpuBefore)}`)

      expect(counts.sequences).toBe(LIVE_SEQUENCES)
      // Besides the refusals, Hocuspocus logs a refused unload while the update log still
      // stores a document's last updates; the document unloads once they are stored.
      const refusal = refusalLogPattern(['invalid_update', 'client_id_taken'])
      const unexpected = consoleErrors.lines.filter(
        (line) =>
          !refusal.test(line) && line !== '[beforeUnloadDocument] document has unstored updates',
      )
      expect(unexpected).toEqual([])
    }, 300_000)
  })
})

// ---------------------------------------------------------------------------------------------
// The live server

/** Devices as raw clients of a live server, with the oracle fed by the server's document. */
class LiveTransport implements Transport {
  private readonly clients = new Map<Device, RawSyncClient>()
  private readonly pending: Promise<void>[] = []
  private observer: RawSyncClient | undefined
  private document: Y.Doc | undefined

  constructor(
    private readonly server: TestServer,
    private readonly oracle: Oracle,
    private readonly name: string,
    private readonly conversationId: string,
    private readonly tokens: Map<string, ApiUser>,
  ) {}

  /**
   * Keeps the document loaded with an observer connection, and takes every client id the
   * server's document has before any device writes as the server's.
   */
  async start(observerToken: string): Promise<void> {
    this.observer = await RawSyncClient.open(this.server.url, this.name, observerToken)
    await this.observer.pull()
    const document = this.server.server.engine.hocuspocus.documents.get(this.name)
    if (!document) throw new Error(`${this.name} is not loaded`)
    this.document = document
    for (const client of Y.decodeStateVector(Y.encodeStateVector(document)).keys()) {
      this.oracle.controller.set(client, SERVER_OWNER)
    }
    this.oracle.controller.set(document.clientID, SERVER_OWNER)
    document.on('afterTransaction', this.observeTransaction)
  }

  async stop(): Promise<void> {
    this.document?.off('afterTransaction', this.observeTransaction)
    for (const client of this.clients.values()) await client.closed()
    this.clients.clear()
    await this.observer?.closed()
  }

  async connect(device: Device): Promise<void> {
    const client = await RawSyncClient.open(
      this.server.url,
      this.name,
      this.tokenOf(device.user.id),
      device.doc,
    )
    this.clients.set(device, client)
    await client.pull()
    const stepTwo = Y.encodeStateAsUpdate(device.doc, client.serverStateVector)
    const outcome = await client.sendUpdate(stepTwo, SyncStep.Step2)
    if (outcome.kind !== 'acknowledged') {
      this.oracle.fail(`${device.label}'s sync step 2 was refused: ${JSON.stringify(outcome)}`)
    }
    device.online = true
  }

  async disconnect(device: Device): Promise<void> {
    device.online = false
    await this.clients.get(device)?.closed()
    this.clients.delete(device)
  }

  async send(device: Device, update: Uint8Array): Promise<string | undefined> {
    const client = this.clients.get(device)
    if (!client) throw new Error(`${device.label} is not connected`)
    const outcome = await client.sendUpdate(update)
    if (outcome.kind === 'acknowledged') return undefined
    return outcome.kind === 'closed' ? outcome.reason : `socket closed ${outcome.code}`
  }

  async attack(userId: string, update: Uint8Array): Promise<string | undefined> {
    const client = await RawSyncClient.open(this.server.url, this.name, this.tokenOf(userId))
    try {
      const outcome = await client.sendUpdate(update)
      if (outcome.kind === 'acknowledged') return undefined
      return outcome.kind === 'closed' ? outcome.reason : `socket closed ${outcome.code}`
    } finally {
      await client.closed()
    }
  }

  serverReplica(clientId: number): Promise<Y.Doc> {
    return Promise.resolve(replicaOf(this.serverDoc(), clientId))
  }

  /** Relayed updates reach a live device on their own, so there is nothing to apply. */
  deliver(): Promise<void> {
    return Promise.resolve()
  }

  async converge(device: Device, serverState: string): Promise<boolean> {
    try {
      await waitFor(
        () => stateJson(device.doc) === serverState,
        `${device.label} to converge`,
        5_000,
      )
      return true
    } catch {
      return false
    }
  }

  /**
   * Starts the demotion through the API and returns at once: the request waits until the
   * server has stored its system event, while the sequence goes on meanwhile.
   */
  demote(user: SimUser, by: SimUser): Promise<void> {
    const admin = this.tokens.get(by.id)
    if (!admin) throw new Error(`no token for ${by.id}`)
    const demotion = admin
      .request('PATCH', `/api/conversations/${this.conversationId}/members/${user.id}`, {
        role: 'member',
      })
      .then((response) => {
        if (response.status !== 200) throw new Error(`demotion failed with ${response.status}`)
        user.role = 'member'
      })
    this.pending.push(demotion)
    return Promise.resolve()
  }

  async settle(): Promise<void> {
    await Promise.all(this.pending.splice(0))
  }

  serverEvent(): Promise<void> {
    // The live server writes system events only for API changes, such as the demotion.
    return Promise.resolve()
  }

  serverDoc(): Y.Doc {
    if (!this.document) throw new Error('the transport has not started')
    return this.document
  }

  private readonly observeTransaction = (transaction: Y.Transaction) => {
    const origin = transaction.origin as
      { source?: string; connection?: { context?: { userId?: string } } } | undefined
    const writer =
      origin?.source === 'connection' ? origin.connection?.context?.userId : SERVER_OWNER
    if (writer === SERVER_OWNER) {
      // The server's own writes may use a client id it picked after loading the document.
      for (const [client, clock] of transaction.afterState) {
        if (
          clock > (transaction.beforeState.get(client) ?? 0) &&
          !this.oracle.controller.has(client)
        ) {
          this.oracle.controller.set(client, SERVER_OWNER)
        }
      }
    }
    this.oracle.observe(writer ?? 'unknown', transaction)
  }

  private tokenOf(userId: string): string {
    const user = this.tokens.get(userId)
    if (!user) throw new Error(`no token for ${userId}`)
    return user.token
  }
}

/** A group of a live sequence: its id and members, the first two of them admins. */
interface LiveGroup {
  id: ConversationId
  members: ApiUser[]
}

/** Creates a group of 3 to 5 users of the pool, the number drawn from the seed. */
async function createLiveGroup(pool: ApiUser[], seed: number): Promise<LiveGroup> {
  const random = new SeededRandom(seed)
  const members = pool.slice(0, random.between(3, pool.length))
  const [creator, second, ...rest] = members
  if (!creator || !second) throw new Error('the pool has too few users')
  const group = await createGroup(creator, [second, ...rest])
  // The second member becomes an admin, so that the creator can demote them later.
  const promotion = await creator.request(
    'PATCH',
    `/api/conversations/${group.id}/members/${second.user.id}`,
    { role: 'admin' },
  )
  if (promotion.status !== 200) throw new Error(`promotion failed with ${promotion.status}`)
  return { id: group.id, members }
}

/** Returns a function that runs tasks with at most `limit` of them running at once. */
function concurrencyLimit(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: (() => void)[] = []
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
    try {
      return await task()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

/** Runs one sequence through a live server, in the group made for its seed. */
async function runLiveSequence(
  server: TestServer,
  group: LiveGroup,
  seed: number,
  counts: Counts,
): Promise<void> {
  const random = new SeededRandom(seed ^ 0x7f4a7c15)
  const members = group.members
  const creator = members[0]
  if (!creator) throw new Error('the group has no members')
  const name = conversationDocumentName(group.id)
  const oracle = new Oracle(`live sequence with seed ${seed}`)
  const freshClientId = clientIds(random)
  const tokens = new Map(members.map((member) => [member.user.id as string, member]))
  const users = createUsers(
    members.map((member) => member.user.id),
    oracle,
    freshClientId,
  )
  const transport = new LiveTransport(server, oracle, name, group.id, tokens)
  await transport.start(creator.token)
  let final: DocumentState
  try {
    for (const device of users.flatMap((user) => user.devices)) {
      if (random.chance(0.7)) await transport.connect(device)
    }
    await runSequence(seed, users, transport, oracle, { steps: [6, 14] }, counts, freshClientId)
    final = documentState(transport.serverDoc())
  } finally {
    await transport.stop()
  }

  // Once the document is unloaded, a client with no local state loads it from the database.
  oracle.at('reload')
  await waitFor(
    () => !server.server.engine.hocuspocus.documents.has(name),
    `${name} to unload`,
    5_000,
  )
  const stored = updateState(await server.server.services.documents.load(name))
  if (JSON.stringify(stored) !== JSON.stringify(final)) oracle.fail('the stored document differs')
  const fresh = await RawSyncClient.open(server.url, name, creator.token)
  try {
    await fresh.pull()
    if (JSON.stringify(documentState(fresh.doc)) !== JSON.stringify(final)) {
      oracle.fail('a fresh client loaded a different document')
    }
  } finally {
    await fresh.closed()
  }
}

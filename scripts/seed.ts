// Fills a conversation with messages through the real write path: the HTTP API for users
// and the group, and /sync for the document, so every update is validated and stored.
// Usage: npm run seed -- --messages 1000 [--url http://127.0.0.1:3000] [--users 5] [--batch 100]
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import type { Conversation, User } from '../shared/api.ts'
import { deleteMessage, editMessage, sendMessage, toggleReaction } from '../shared/chat-document.ts'
import { conversationDocumentName } from '../shared/document-names.ts'
import type { UserId } from '../shared/ids.ts'

/** What the seed wrote. */
export interface SeedResult {
  conversationId: string
  users: { user: User; token: string }[]
  messages: number
  edits: number
  deletions: number
  reactions: number
  durationMs: number
}

/** Options of a seed run. */
export interface SeedOptions {
  url: string
  messages: number
  users: number
  /** Messages written per update; larger batches mean fewer round trips. */
  batch: number
}

const PASSWORD = 'seed password 1234'
const EMOJI = ['👍', '🎉', '❤️', '😂']

/** Creates users and a group, then writes the messages, edits, deletions and reactions. */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const started = performance.now()
  const prefix = `seed_${Date.now().toString(36)}`
  const users = []
  for (let index = 0; index < options.users; index++) {
    users.push(await createUser(options.url, `${prefix}_${index}`))
  }
  const [owner, ...others] = users
  if (!owner) throw new RangeError('--users must be at least 1')
  const conversation = await post<{ conversation: Conversation }>(
    options.url,
    '/api/conversations',
    owner.token,
    {
      kind: 'group',
      title: `Seeded ${options.messages} messages`,
      memberIds: others.map((entry) => entry.user.id),
    },
  )
  const name = conversationDocumentName(conversation.conversation.id)
  const clients = users.map((entry) => connect(options.url, entry.token, name))
  await Promise.all(clients.map((client) => client.synced))

  const counts = { edits: 0, deletions: 0, reactions: 0 }
  for (let written = 0; written < options.messages; written += options.batch) {
    const size = Math.min(options.batch, options.messages - written)
    const client = clients[(written / options.batch) % clients.length]!
    const author = users[clients.indexOf(client)]!.user.id
    writeBatch(client.doc, author, written, size, counts)
    await client.acknowledged()
  }
  for (const client of clients) client.destroy()

  return {
    conversationId: conversation.conversation.id,
    users,
    messages: options.messages,
    ...counts,
    durationMs: Math.round(performance.now() - started),
  }
}

/** Writes one batch in one transaction: every 10th message edited, every 25th deleted, every 5th reacted to. */
function writeBatch(
  doc: Y.Doc,
  authorId: UserId,
  first: number,
  size: number,
  counts: { edits: number; deletions: number; reactions: number },
): void {
  doc.transact(() => {
    for (let offset = 0; offset < size; offset++) {
      const number = first + offset
      const message = sendMessage(doc, {
        authorId,
        text: `Message ${number} of the seeded history`,
      })
      if (number % 10 === 3) {
        editMessage(doc, {
          messageId: message.id,
          userId: authorId,
          text: `Message ${number}, edited`,
        })
        counts.edits++
      }
      if (number % 25 === 7) {
        deleteMessage(doc, { messageId: message.id, userId: authorId })
        counts.deletions++
      }
      if (number % 5 === 1) {
        toggleReaction(doc, {
          messageId: message.id,
          userId: authorId,
          emoji: EMOJI[number % EMOJI.length]!,
        })
        counts.reactions++
      }
    }
  })
}

interface SeedClient {
  doc: Y.Doc
  synced: Promise<void>
  acknowledged(): Promise<void>
  destroy(): void
}

function connect(url: string, token: string, name: string): SeedClient {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url: `${url.replace(/^http/, 'ws')}/sync` })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc, token })
  provider.attach()
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 120_000
      const check = () => {
        if (condition()) return resolve()
        if (Date.now() > deadline) return reject(new Error(`timed out waiting on ${name}`))
        setTimeout(check, 5)
      }
      check()
    })
  return {
    doc,
    synced: until(() => provider.isSynced),
    acknowledged: () => until(() => provider.unsyncedChanges === 0),
    destroy: () => {
      provider.destroy()
      socket.destroy()
    },
  }
}

async function createUser(url: string, username: string): Promise<{ user: User; token: string }> {
  const { user } = await post<{ user: User }>(url, '/api/auth/signup', undefined, {
    username,
    password: PASSWORD,
  })
  const { token } = await post<{ token: string }>(url, '/api/auth/token', undefined, {
    username,
    password: PASSWORD,
  })
  return { user, token }
}

async function post<T>(
  url: string,
  path: string,
  token: string | undefined,
  body: unknown,
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  })
  if (!response.ok)
    throw new Error(`${path} failed with ${response.status}: ${await response.text()}`)
  return (await response.json()) as T
}

function positive(name: string, value: string): number {
  const number = Number(value)
  if (!Number.isInteger(number) || number < 1)
    throw new RangeError(`--${name} must be a positive integer, got "${value}"`)
  return number
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      messages: { type: 'string', default: '1000' },
      users: { type: 'string', default: '5' },
      batch: { type: 'string', default: '100' },
    },
  })
  const result = await seed({
    url: values.url,
    messages: positive('messages', values.messages),
    users: positive('users', values.users),
    batch: positive('batch', values.batch),
  })
  process.stdout.write(
    `${JSON.stringify({ ...result, users: result.users.map((entry) => entry.user.username) })}\n`,
  )
}

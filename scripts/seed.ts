// Fills a conversation with messages through the real write path: the HTTP API for users
// and the group, and /sync for the documents, so every update is validated and stored. Each
// batch goes into the history segment that the server has open, as a client's would.
// Usage: npm run seed -- --messages 1000 [--url http://127.0.0.1:3000] [--users 5] [--batch 100]
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import type { Conversation, User } from '../shared/api.ts'
import {
  deleteMessage,
  editMessage,
  openSegment,
  sendMessage,
  toggleReaction,
} from '../shared/chat-document.ts'
import { conversationDocumentName, segmentDocumentName } from '../shared/document-names.ts'
import type { ConversationId, UserId } from '../shared/ids.ts'

/** What the seed wrote. */
export interface SeedResult {
  conversationId: string
  users: { user: User; token: string }[]
  messages: number
  /** History segments the messages span, from the live document to the open one. */
  segments: number
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

/** Maximum wait, in ms, for a sync or an acknowledgement, and for the next open segment. */
const WAIT_MS = 120_000

/** A seeded user with a client of the live document and one of the segment it writes. */
interface SeedAuthor {
  user: User
  token: string
  live: SeedClient
  segment?: { number: number; client: SeedClient }
}

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
  const conversationId = conversation.conversation.id
  const liveName = conversationDocumentName(conversationId)
  const authors: SeedAuthor[] = users.map((entry) => ({
    ...entry,
    live: connect(options.url, entry.token, liveName),
  }))
  await Promise.all(authors.map((author) => author.live.synced()))

  const counts = { edits: 0, deletions: 0, reactions: 0 }
  for (let written = 0; written < options.messages; written += options.batch) {
    const size = Math.min(options.batch, options.messages - written)
    const author = authors[(written / options.batch) % authors.length]!
    const added = await writeToOpenSegment(options.url, conversationId, author, written, size)
    counts.edits += added.edits
    counts.deletions += added.deletions
    counts.reactions += added.reactions
  }
  const segments = Math.max(...authors.map((author) => openSegment(author.live.doc))) + 1
  for (const author of authors) {
    releaseSegment(author)
    author.live.destroy()
  }

  return {
    conversationId,
    users,
    messages: options.messages,
    segments,
    ...counts,
    durationMs: Math.round(performance.now() - started),
  }
}

/**
 * Writes one batch into the segment that the live document names as open, opening that
 * segment's document first. The server closes a full segment after it acknowledged the
 * batch that filled it, and announces the next one a moment later. A batch written in
 * between is rejected, so it is written again into the next segment once that is announced.
 */
async function writeToOpenSegment(
  url: string,
  conversationId: ConversationId,
  author: SeedAuthor,
  first: number,
  size: number,
): Promise<BatchCounts> {
  for (;;) {
    const open = openSegment(author.live.doc)
    if (author.segment?.number !== open) {
      releaseSegment(author)
      const name = segmentDocumentName(conversationId, open)
      // Segment 0 is the live document itself, which the author has open already.
      const client = open === 0 ? author.live : connect(url, author.token, name)
      author.segment = { number: open, client }
      await client.synced()
    }
    const { client } = author.segment
    const counts = writeBatch(client.doc, author.user.id, first, size)
    if ((await client.acknowledged()) === 'acknowledged') return counts

    // The rejected copy is dropped, so that its provider does not send the same bytes again.
    releaseSegment(author)
    if (client === author.live) {
      author.live.destroy()
      author.live = connect(url, author.token, conversationDocumentName(conversationId))
      await author.live.synced()
    }
    await until(() => openSegment(author.live.doc) > open, `segment ${open} to close`)
  }
}

/** Closes the author's client of a history segment, unless it is the live document's. */
function releaseSegment(author: SeedAuthor): void {
  if (author.segment && author.segment.client !== author.live) author.segment.client.destroy()
  author.segment = undefined
}

/** Edits, deletions and reactions that one batch wrote. */
interface BatchCounts {
  edits: number
  deletions: number
  reactions: number
}

/** Writes one batch in one transaction: every 10th message edited, every 25th deleted, every 5th reacted to. */
function writeBatch(doc: Y.Doc, authorId: UserId, first: number, size: number): BatchCounts {
  const counts = { edits: 0, deletions: 0, reactions: 0 }
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
  return counts
}

interface SeedClient {
  doc: Y.Doc
  synced(): Promise<void>
  /** Waits until the server acknowledged every change, or rejected one with invalid_update. */
  acknowledged(): Promise<'acknowledged' | 'rejected'>
  destroy(): void
}

function connect(url: string, token: string, name: string): SeedClient {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url: `${url.replace(/^http/, 'ws')}/sync` })
  let rejected = false
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name,
    document: doc,
    token,
    onClose: ({ event }) => {
      if (event.reason === 'invalid_update') rejected = true
    },
  })
  provider.attach()
  return {
    doc,
    synced: () => until(() => provider.isSynced, `${name} to sync`),
    acknowledged: async () => {
      await until(
        () => rejected || provider.unsyncedChanges === 0,
        `the server to acknowledge ${name}`,
      )
      return rejected ? 'rejected' : 'acknowledged'
    },
    destroy: () => {
      provider.destroy()
      socket.destroy()
    },
  }
}

/** Resolves once a condition is true, checking every 5 ms, and rejects after WAIT_MS. */
function until(condition: () => boolean, description: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + WAIT_MS
    const check = () => {
      if (condition()) return resolve()
      if (Date.now() > deadline) {
        return reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${description}`))
      }
      setTimeout(check, 5)
    }
    check()
  })
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

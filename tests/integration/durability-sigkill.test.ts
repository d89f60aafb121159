import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import {
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  type SyncClient,
  waitForSync,
} from '../helpers/clients.ts'
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.ts'
import { freePort } from '../helpers/server.ts'
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts'

const KILLS = 20

/** Seeded generator, so that a failing run can be repeated with the same kill points. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/**
 * Writes messages one after another and records each once the server acknowledged it.
 * Stops when the connection is gone.
 */
async function writeUntilKilled(
  client: SyncClient,
  author: ApiUser,
  label: string,
  acknowledged: Set<string>,
  stop: { killed: boolean },
): Promise<void> {
  for (let number = 0; !stop.killed; number++) {
    const text = `${label}-${number}`
    sendMessage(client.doc, { authorId: author.user.id, text })
    const deadline = Date.now() + 5_000
    while (!stop.killed && client.provider.unsyncedChanges > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    if (stop.killed || client.provider.unsyncedChanges > 0) return
    acknowledged.add(text)
  }
}

/** Runs the kill loop; returns the acknowledged texts and what a fresh reader found. */
async function runKills(
  database: TestDatabase,
  env: Record<string, string>,
  seed: number,
  stopOnLoss: boolean,
): Promise<{ acknowledged: Set<string>; counts: Map<string, number>; kills: number }> {
  const next = random(seed)
  const port = await freePort()
  const serverEnv = { DATABASE_URL: database.databaseUrl!, ...env }
  let server: ServerProcess = await startServerProcess(serverEnv, port)
  const ana = await createApiUser(server.url, 'ana')
  const ben = await createApiUser(server.url, 'ben')
  const group = await createGroup(ana, [ben])
  const name = conversationDocumentName(group.id)
  const acknowledged = new Set<string>()
  let counts = new Map<string, number>()
  let kills = 0

  for (let round = 0; round < KILLS; round++) {
    // Each round starts with no local data, so a lost message cannot come back from a device.
    const writers = [ana, ben].map((user) => ({
      user,
      client: openDocument(server.url, user.token, name, new Y.Doc()),
    }))
    await Promise.all(writers.map((writer) => waitForSync(writer.client)))
    const stop = { killed: false }
    const writing = writers.map((writer, index) =>
      writeUntilKilled(writer.client, writer.user, `r${round}w${index}`, acknowledged, stop),
    )
    await new Promise((resolve) => setTimeout(resolve, 30 + next() * 300))
    await server.kill('SIGKILL')
    kills++
    stop.killed = true
    await Promise.all(writing)
    for (const writer of writers) writer.client.destroy()

    server = await startServerProcess(serverEnv, port)
    const reader = openDocument(server.url, ana.token, name, new Y.Doc())
    await waitForSync(reader)
    counts = new Map<string, number>()
    for (const message of listMessages(reader.doc)) {
      counts.set(message.text, (counts.get(message.text) ?? 0) + 1)
    }
    reader.destroy()
    const lost = [...acknowledged].some((text) => !counts.has(text))
    if (stopOnLoss && lost) break
  }
  await server.kill('SIGTERM')
  return { acknowledged, counts, kills }
}

describe('durability under SIGKILL on Postgres', { timeout: 240_000 }, () => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createPostgresDatabase()
  })
  afterAll(async () => {
    await database.drop()
  })

  it('keeps every acknowledged message exactly once', async () => {
    const { acknowledged, counts, kills } = await runKills(database, {}, 20261204, false)
    expect(kills).toBe(KILLS)
    expect(acknowledged.size).toBeGreaterThan(KILLS)
    const missing = [...acknowledged].filter((text) => !counts.has(text))
    expect(missing).toEqual([])
    const duplicated = [...counts].filter(([, count]) => count > 1).map(([text]) => text)
    expect(duplicated).toEqual([])
  })
})

describe('durability with the update log off', { timeout: 240_000 }, () => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await createPostgresDatabase()
  })
  afterAll(async () => {
    await database.drop()
  })

  it('loses an acknowledged message, so the check detects loss', async () => {
    const { acknowledged, counts } = await runKills(database, { DURABLE_ACK: 'false' }, 7, true)
    const missing = [...acknowledged].filter((text) => !counts.has(text))
    expect(missing.length).toBeGreaterThan(0)
  })
})

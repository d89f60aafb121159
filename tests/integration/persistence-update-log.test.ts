import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UserId } from '../../shared/ids.ts'
import { createLogger } from '../../sync-server/observability/logger.ts'
import { Metrics } from '../../sync-server/observability/metrics.ts'
import { openDatabase, type OpenDatabase } from '../../sync-server/persistence/database.ts'
import { DocumentStore } from '../../sync-server/persistence/document-store.ts'
import type { Database } from '../../sync-server/persistence/schema.ts'
import { UpdateLog } from '../../sync-server/sync/update-log.ts'
import { messagesUpdate, messageTexts } from '../helpers/chat-fixtures.ts'
import { createDatabase, type TestDatabase } from '../helpers/databases.ts'

const AUTHOR = 'author-0000000001' as UserId
/** Long enough that the appends of one test step fall within one interval on a busy machine. */
const INTERVAL_MS = 300

let documentCounter = 0

function freshName(): string {
  documentCounter++
  return `conv:log${process.pid}x${documentCounter}${Date.now().toString(36)}`
}

async function storedRows(db: Kysely<Database>, name: string): Promise<number> {
  const row = await db
    .selectFrom('document_updates')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('name', '=', name)
    .executeTakeFirstOrThrow()
  return Number(row.count)
}

describe.each(['pglite', 'postgres'] as const)('UpdateLog on %s', (kind) => {
  let database: TestDatabase
  let opened: OpenDatabase
  let store: DocumentStore
  const appended: { name: string; rows: number }[] = []

  function createLog(intervalMs: number): UpdateLog {
    return new UpdateLog(
      store,
      createLogger('silent'),
      new Metrics(),
      (name, since) => appended.push({ name, rows: since.rows }),
      intervalMs,
    )
  }

  beforeAll(async () => {
    database = await createDatabase(kind)
    opened = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir })
    store = new DocumentStore(opened.db)
  })
  afterAll(async () => {
    await opened.close()
    await database.drop()
  })

  it('stores one row per document and commit', async () => {
    const log = createLog(0)
    const first = freshName()
    const second = freshName()
    await Promise.all([
      log.append(first, messagesUpdate(AUTHOR, ['one'])),
      log.append(first, messagesUpdate(AUTHOR, ['two'])),
      log.append(second, messagesUpdate(AUTHOR, ['other'])),
      log.append(first, messagesUpdate(AUTHOR, ['three'])),
    ])

    expect(await storedRows(opened.db, first)).toBe(1)
    expect(await storedRows(opened.db, second)).toBe(1)
    expect(messageTexts(await store.load(first)).sort()).toEqual(['one', 'three', 'two'])
    expect(messageTexts(await store.load(second))).toEqual(['other'])
    expect(appended.filter((entry) => entry.name === first)).toEqual([{ name: first, rows: 1 }])
  })

  it('commits an update after a quiet interval at once', async () => {
    const intervalMs = 1000
    const log = createLog(intervalMs)
    const name = freshName()
    await log.append(name, messagesUpdate(AUTHOR, ['first']))
    await new Promise((resolve) => setTimeout(resolve, intervalMs + 50))

    const started = performance.now()
    await log.append(name, messagesUpdate(AUTHOR, ['after a pause']))

    expect(performance.now() - started).toBeLessThan(intervalMs)
    expect(await storedRows(opened.db, name)).toBe(2)
  })

  it('holds updates under load for one commit', async () => {
    const log = createLog(INTERVAL_MS)
    const name = freshName()
    await log.append(name, messagesUpdate(AUTHOR, ['opens the interval']))

    // Both arrive within the interval that the first commit started, so they wait for its
    // end and share the next commit.
    const second = log.append(name, messagesUpdate(AUTHOR, ['second']))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(log.hasUnstored(name)).toBe(true)
    const third = log.append(name, messagesUpdate(AUTHOR, ['third']))
    await Promise.all([second, third])

    expect(await storedRows(opened.db, name)).toBe(2)
    expect(messageTexts(await store.load(name)).sort()).toEqual([
      'opens the interval',
      'second',
      'third',
    ])
  })

  it('keeps held updates readable', async () => {
    const log = createLog(INTERVAL_MS)
    const name = freshName()
    await log.append(name, messagesUpdate(AUTHOR, ['stored']))
    const held = log.append(name, messagesUpdate(AUTHOR, ['held']))

    const unstored = log.unstored(name)
    expect(unstored).toHaveLength(1)
    expect(messageTexts(unstored[0])).toEqual(['held'])
    await held
    expect(log.hasUnstored(name)).toBe(false)
  })
})

import { randomBytes } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import { openDatabase, type OpenDatabase } from '../../sync-server/persistence/database.ts'
import { DocumentStore } from '../../sync-server/persistence/document-store.ts'
import { migrateToLatest } from '../../sync-server/persistence/migrations.ts'
import type { Database } from '../../sync-server/persistence/schema.ts'
import { unpackUpdate } from '../../sync-server/persistence/update-codec.ts'
import { messagesUpdate, messageTexts } from '../helpers/chat-fixtures.ts'
import { createDatabase, type TestDatabase } from '../helpers/databases.ts'

const AUTHOR = 'author-0000000001' as UserId

let documentCounter = 0

/** Returns a document name that no other test uses. */
function freshName(prefix = 'conv'): string {
  documentCounter++
  return `${prefix}:store${process.pid}x${documentCounter}${Date.now().toString(36)}`
}

/** Returns the full state of a document built from stored bytes, for comparing two states. */
function stateOf(update: Uint8Array | undefined): Uint8Array {
  const doc = new Y.Doc()
  if (update) Y.applyUpdate(doc, update)
  return Y.encodeStateAsUpdate(doc)
}

/** A writer that sends one message per call and returns that message's own update. */
function messageWriter(prefix: string) {
  const doc = new Y.Doc()
  let sent = 0
  return (): Uint8Array => {
    let captured: Uint8Array | undefined
    const capture = (update: Uint8Array) => (captured = update)
    doc.once('update', capture)
    sendMessage(doc, { authorId: AUTHOR, text: `${prefix} ${sent++}` })
    if (!captured) throw new Error('sendMessage produced no update')
    return captured
  }
}

async function rowCount(
  db: Kysely<Database>,
  table: 'documents' | 'document_updates',
  name: string,
) {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('name', '=', name)
    .executeTakeFirstOrThrow()
  return Number(row.count)
}

describe.each(['pglite', 'postgres'] as const)('DocumentStore on %s', (kind) => {
  let database: TestDatabase
  let opened: OpenDatabase
  let store: DocumentStore

  beforeAll(async () => {
    database = await createDatabase(kind)
    opened = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir })
    store = new DocumentStore(opened.db)
  })
  afterAll(async () => {
    await opened.close()
    await database.drop()
  })

  it('loads what was appended, in order', async () => {
    const name = freshName()
    const write = messageWriter('round trip')
    await store.append([{ name, data: write() }])
    await store.append([
      { name, data: write() },
      { name, data: write() },
    ])

    expect(messageTexts(await store.load(name))).toEqual([
      'round trip 0',
      'round trip 1',
      'round trip 2',
    ])
  })

  it('appends rows of several documents in one call', async () => {
    const first = freshName()
    const second = freshName()
    await store.append([
      { name: first, data: messagesUpdate(AUTHOR, ['to the first']) },
      { name: second, data: messagesUpdate(AUTHOR, ['to the second']) },
    ])

    expect(messageTexts(await store.load(first))).toEqual(['to the first'])
    expect(messageTexts(await store.load(second))).toEqual(['to the second'])
  })

  it('returns undefined for a missing document', async () => {
    expect(await store.load(freshName())).toBeUndefined()
  })

  it('accepts an empty append', async () => {
    await expect(store.append([])).resolves.toBeUndefined()
  })

  it('merges rows into the snapshot without changing the state', async () => {
    const name = freshName()
    const write = messageWriter('compacted')
    for (let index = 0; index < 5; index++) await store.append([{ name, data: write() }])
    const before = await store.load(name)

    const result = await store.compact(name)
    const after = await store.load(name)

    expect(result.mergedUpdates).toBe(5)
    expect(result.snapshotBytes).toBeGreaterThan(0)
    expect(await store.pendingUpdateCount(name)).toBe(0)
    expect(await rowCount(opened.db, 'documents', name)).toBe(1)
    expect(stateOf(after)).toEqual(stateOf(before))
    expect(messageTexts(after)).toEqual([0, 1, 2, 3, 4].map((index) => `compacted ${index}`))
  })

  it('merges later rows into an existing snapshot', async () => {
    const name = freshName()
    const write = messageWriter('twice')
    await store.append([{ name, data: write() }])
    await store.compact(name)
    await store.append([{ name, data: write() }])
    const before = await store.load(name)

    const result = await store.compact(name)
    const again = await store.compact(name)
    const after = await store.load(name)

    expect(result.mergedUpdates).toBe(1)
    expect(again.mergedUpdates).toBe(0)
    expect(stateOf(after)).toEqual(stateOf(before))
    expect(messageTexts(after)).toEqual(['twice 0', 'twice 1'])
  })

  it('keeps deletions through a compaction', async () => {
    const name = freshName()
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    sendMessage(doc, { authorId: AUTHOR, text: 'kept' })
    sendMessage(doc, { authorId: AUTHOR, text: 'deleted' })
    doc.getArray('messages').delete(1, 1)
    for (const data of updates) await store.append([{ name, data }])

    await store.compact(name)

    expect(messageTexts(await store.load(name))).toEqual(['kept'])
    expect(stateOf(await store.load(name))).toEqual(Y.encodeStateAsUpdate(doc))
  })

  it('compacts on an empty log without creating content', async () => {
    const name = freshName()
    const result = await store.compact(name)

    expect(result.mergedUpdates).toBe(0)
    expect(await store.load(name)).toBeUndefined()
  })

  it('loses no append that runs during compactions', async () => {
    const name = freshName()
    const writers = [messageWriter('a'), messageWriter('b'), messageWriter('c')]
    const perWriter = 15
    let appending = true
    let compactions = 0

    const append = async (write: () => Uint8Array) => {
      for (let index = 0; index < perWriter; index++) await store.append([{ name, data: write() }])
    }
    const compactLoop = async () => {
      while (appending) {
        await store.compact(name)
        compactions++
      }
    }
    const compacting = compactLoop()
    await Promise.all(writers.map((write) => append(write)))
    appending = false
    await compacting
    const beforeLast = messageTexts(await store.load(name))
    await store.compact(name)
    const afterLast = messageTexts(await store.load(name))

    const expected = ['a', 'b', 'c'].flatMap((prefix) =>
      Array.from({ length: perWriter }, (_, index) => `${prefix} ${index}`),
    )
    expect(compactions).toBeGreaterThan(1)
    expect([...beforeLast].sort()).toEqual([...expected].sort())
    expect(afterLast).toEqual(beforeLast)
    expect(await store.pendingUpdateCount(name)).toBe(0)
  })

  // Regression: load read the snapshot and the update rows in two statements, so a
  // compaction that committed between them hid the rows it had merged.
  it('loads every update while compactions run', async () => {
    const name = freshName()
    const write = messageWriter('visible')
    const incomplete: number[] = []

    for (let round = 0; round < 30; round++) {
      await store.append([{ name, data: write() }])
      const [loaded] = await Promise.all([store.load(name), store.compact(name)])
      if (messageTexts(loaded).length !== round + 1) incomplete.push(round)
    }

    expect(incomplete).toEqual([])
  })

  it('removes one document and nothing else', async () => {
    const name = freshName()
    const segment = `${name}:seg:1`
    await store.append([
      { name, data: messagesUpdate(AUTHOR, ['removed']) },
      { name: segment, data: messagesUpdate(AUTHOR, ['kept']) },
    ])
    await store.compact(name)
    await store.append([{ name, data: messagesUpdate(AUTHOR, ['removed too']) }])

    await store.remove(name)

    expect(await store.load(name)).toBeUndefined()
    expect(await rowCount(opened.db, 'documents', name)).toBe(0)
    expect(await rowCount(opened.db, 'document_updates', name)).toBe(0)
    expect(messageTexts(await store.load(segment))).toEqual(['kept'])
  })

  // Removal locked the update rows before the documents row and compaction the other way
  // round, so deleting a conversation while its unloaded documents compacted deadlocked.
  // A compaction that ran after the removal also left an empty documents row.
  it('removes documents while they compact, leaving no row', async () => {
    const failures: unknown[] = []
    const leftovers: string[] = []

    for (let round = 0; round < 20; round++) {
      const live = freshName()
      const names = [live, `${live}:seg:1`, `${live}:seg:2`]
      for (const name of names) {
        await store.append([{ name, data: messagesUpdate(AUTHOR, [`${name} a`]) }])
        await store.compact(name)
        await store.append([{ name, data: messagesUpdate(AUTHOR, [`${name} b`]) }])
      }
      const results = await Promise.allSettled([
        ...names.map((name) => store.compact(name)),
        store.removeByPrefix(live),
        ...names.map((name) => store.compact(name)),
      ])
      failures.push(...results.flatMap((result) => (result.status === 'rejected' ? [result] : [])))
      for (const name of names) {
        const rows =
          (await rowCount(opened.db, 'documents', name)) +
          (await rowCount(opened.db, 'document_updates', name))
        if (rows > 0) leftovers.push(name)
      }
    }

    expect(failures).toEqual([])
    expect(leftovers).toEqual([])
  })

  it('removes by prefix with LIKE wildcards taken literally', async () => {
    const base = freshName()
    const names = {
      live: `${base}_x`,
      segment: `${base}_x:seg:1`,
      underscoreLookalike: `${base}ax`,
      percentLookalike: `${base}-q-y`,
    }
    await store.append(
      Object.values(names).map((name) => ({ name, data: messagesUpdate(AUTHOR, [name]) })),
    )
    await store.compact(names.segment)

    await store.removeByPrefix(`${base}_x:`)
    const segmentAfterItsPrefix = await store.load(names.segment)
    const liveAfterSegmentPrefix = messageTexts(await store.load(names.live))
    await store.removeByPrefix(`${base}%y`)
    await store.removeByPrefix(names.live)

    expect(segmentAfterItsPrefix).toBeUndefined()
    expect(liveAfterSegmentPrefix).toEqual([names.live])
    expect(await store.load(names.live)).toBeUndefined()
    expect(messageTexts(await store.load(names.underscoreLookalike))).toEqual([
      names.underscoreLookalike,
    ])
    expect(messageTexts(await store.load(names.percentLookalike))).toEqual([names.percentLookalike])
  })

  it('keeps arbitrary bytes intact in bytea columns', async () => {
    const name = freshName()
    const everyByte = Uint8Array.from({ length: 256 }, (_, index) => index)
    const large = new Uint8Array(randomBytes(256 * 1024))
    await store.append([
      { name, data: everyByte },
      { name, data: large },
    ])
    await opened.db
      .insertInto('documents')
      .values({ name, snapshot: everyByte, updated_at: new Date() })
      .execute()

    const rows = await opened.db
      .selectFrom('document_updates')
      .select(['data', 'codec'])
      .where('name', '=', name)
      .orderBy('seq')
      .execute()
    const snapshot = await opened.db
      .selectFrom('documents')
      .select('snapshot')
      .where('name', '=', name)
      .executeTakeFirstOrThrow()

    expect(rows[0]?.data).toBeInstanceOf(Uint8Array)
    const unpacked = rows.map((row) => Buffer.from(unpackUpdate(row.data, row.codec)))
    expect(unpacked).toEqual([Buffer.from(everyByte), Buffer.from(large)])
    expect(Buffer.from(snapshot.snapshot ?? [])).toEqual(Buffer.from(everyByte))
    await store.remove(name)
  })

  it('returns a single stored update byte for byte', async () => {
    const name = freshName()
    const update = messagesUpdate(AUTHOR, ['exact bytes'])
    await store.append([{ name, data: update }])

    expect(Buffer.from((await store.load(name)) ?? [])).toEqual(Buffer.from(update))
  })

  it('parses update sequence numbers as numbers', async () => {
    const name = freshName()
    await store.append([{ name, data: messagesUpdate(AUTHOR, ['numbered']) }])
    const row = await opened.db
      .selectFrom('document_updates')
      .select('seq')
      .where('name', '=', name)
      .executeTakeFirstOrThrow()

    expect(typeof row.seq).toBe('number')
  })

  it('applies migrations a second time as a no-op', async () => {
    const name = freshName()
    await store.append([{ name, data: messagesUpdate(AUTHOR, ['survives migrations']) }])

    const applied = await migrateToLatest(opened.db as Kysely<unknown>)
    const migrationRows = await sql<{ name: string }>`select name from kysely_migration`.execute(
      opened.db,
    )

    expect(applied).toEqual([])
    expect(migrationRows.rows.map((row) => row.name).sort()).toEqual([
      '0001_initial',
      '0002_message_index',
      '0003_client_ids',
      '0004_history_segments',
      '0005_message_index_by_segment',
      '0006_message_index_without_foreign_key',
      '0007_document_updates_keyed_by_name',
      '0008_message_index_null_mentions',
      '0009_message_batches',
      '0010_update_row_codec',
    ])
    expect(messageTexts(await store.load(name))).toEqual(['survives migrations'])
  })

  it('stores a message row compressed and reads rows stored before the codec', async () => {
    const name = freshName()
    const before = messagesUpdate(AUTHOR, ['stored before the codec'])
    // Puts the table back to before migration 0010 and stores a row as that version did.
    await sql`alter table document_updates drop column codec`.execute(opened.db)
    await sql`alter table document_updates
      add column created_at timestamptz not null default now()`.execute(opened.db)
    await sql`delete from kysely_migration where name = '0010_update_row_codec'`.execute(opened.db)
    await sql`insert into document_updates (name, data) values (${name}, ${before})`.execute(
      opened.db,
    )

    const applied = await migrateToLatest(opened.db as Kysely<unknown>)
    const after = messagesUpdate(AUTHOR, ['stored after the codec'])
    await store.append([{ name, data: after }])
    const rows = await opened.db
      .selectFrom('document_updates')
      .select(['data', 'codec'])
      .where('name', '=', name)
      .orderBy('seq')
      .execute()

    expect(applied).toEqual(['0010_update_row_codec'])
    expect(rows.map((row) => row.codec)).toEqual([0, 1])
    expect(rows[1]?.data.length).toBeLessThan(after.length)
    expect(messageTexts(await store.load(name)).sort()).toEqual([
      'stored after the codec',
      'stored before the codec',
    ])
    await store.compact(name)
    expect(messageTexts(await store.load(name)).sort()).toEqual([
      'stored after the codec',
      'stored before the codec',
    ])
  })
})

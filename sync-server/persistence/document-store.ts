import { type Kysely, sql } from 'kysely'
import * as Y from 'yjs'
import type { Database } from './schema.ts'

/** Result of one compaction. */
export interface CompactionResult {
  mergedUpdates: number
  snapshotBytes: number
}

/**
 * Drops the content of deleted items, so that the text of a deleted message does not
 * survive compaction. Applying the merged update to a document with garbage collection on
 * and encoding it again keeps every item's id, unlike building the content anew.
 */
export function collectGarbage(update: Uint8Array): Uint8Array {
  const doc = new Y.Doc({ gc: true })
  try {
    Y.applyUpdate(doc, update)
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

/**
 * Document storage in log shape: updates are appended as rows of document_updates, and
 * compaction merges them into the snapshot of the documents table. A document is its
 * snapshot plus every update row still present, so a row is never lost by a compaction
 * that ran concurrently with its insert: compaction deletes exactly the rows it merged.
 */
export class DocumentStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends updates in one statement; they are durable once the returned promise resolves. */
  async append(rows: { name: string; data: Uint8Array }[]): Promise<void> {
    if (rows.length === 0) return
    await this.db.insertInto('document_updates').values(rows).execute()
  }

  /** Returns the stored state as one update, or undefined when nothing is stored. */
  async load(name: string): Promise<Uint8Array | undefined> {
    // Rows first: a compaction that commits between the two reads has merged the rows read
    // into the snapshot read next, so nothing is missed. In the other order the merged rows
    // were gone from the log and absent from the older snapshot already read.
    const updates = await this.db
      .selectFrom('document_updates')
      .select('data')
      .where('name', '=', name)
      .orderBy('seq')
      .execute()
    const snapshot = await this.db
      .selectFrom('documents')
      .select('snapshot')
      .where('name', '=', name)
      .executeTakeFirst()

    const parts = updates.map((row) => row.data)
    if (snapshot?.snapshot) parts.unshift(snapshot.snapshot)
    if (parts.length === 0) return undefined
    return parts.length === 1 ? parts[0] : Y.mergeUpdates(parts)
  }

  /** Returns how many update rows wait for compaction. */
  async pendingUpdateCount(name: string): Promise<number> {
    const row = await this.db
      .selectFrom('document_updates')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('name', '=', name)
      .executeTakeFirstOrThrow()
    return Number(row.count)
  }

  /**
   * Merges the update rows of a document into its snapshot. The row lock on the documents
   * row serializes compactions of one document across instances.
   */
  async compact(name: string): Promise<CompactionResult> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('documents')
        .values({ name, snapshot: null, updated_at: new Date() })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute()
      const current = await trx
        .selectFrom('documents')
        .select('snapshot')
        .where('name', '=', name)
        .forUpdate()
        .executeTakeFirstOrThrow()
      const updates = await trx
        .selectFrom('document_updates')
        .select(['seq', 'data'])
        .where('name', '=', name)
        .orderBy('seq')
        .execute()
      if (updates.length === 0) {
        return { mergedUpdates: 0, snapshotBytes: current.snapshot?.length ?? 0 }
      }

      const parts = updates.map((row) => row.data)
      if (current.snapshot) parts.unshift(current.snapshot)
      const snapshot = collectGarbage(Y.mergeUpdates(parts))
      await trx
        .updateTable('documents')
        .set({ snapshot, updated_at: new Date() })
        .where('name', '=', name)
        .execute()
      await trx
        .deleteFrom('document_updates')
        .where('name', '=', name)
        .where(
          'seq',
          'in',
          updates.map((row) => row.seq),
        )
        .execute()
      return { mergedUpdates: updates.length, snapshotBytes: snapshot.length }
    })
  }

  /** Removes a document and its update log. */
  async remove(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('document_updates').where('name', '=', name).execute()
      await trx.deleteFrom('documents').where('name', '=', name).execute()
    })
  }

  /** Removes every document whose name starts with a prefix, such as a conversation's. */
  async removeByPrefix(prefix: string): Promise<void> {
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('document_updates')
        .where('name', 'like', sql<string>`${pattern}`)
        .execute()
      await trx
        .deleteFrom('documents')
        .where('name', 'like', sql<string>`${pattern}`)
        .execute()
    })
  }
}

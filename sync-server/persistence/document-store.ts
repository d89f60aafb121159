import { type Kysely, sql, type Transaction } from 'kysely'
import * as Y from 'yjs'
import type { Database } from './schema.ts'
import { packUpdate, unpackUpdate } from './update-codec.ts'

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

  /** Returns the names of documents that have update rows, the most recently written first. */
  async namesWithUpdates(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('document_updates')
      .select('name')
      .groupBy('name')
      .orderBy(sql`max(seq)`, 'desc')
      .limit(limit)
      .execute()
    return rows.map((row) => row.name)
  }

  /**
   * Appends updates in one statement, durable once the returned promise resolves. Small
   * updates are stored compressed, which about halves the bytes of a chat message.
   */
  async append(rows: { name: string; data: Uint8Array }[]): Promise<void> {
    if (rows.length === 0) return
    const packed = rows.map((row) => ({ name: row.name, ...packUpdate(row.data) }))
    await this.db.insertInto('document_updates').values(packed).execute()
  }

  /** Returns the stored state as one update, or undefined when nothing is stored. */
  async load(name: string): Promise<Uint8Array | undefined> {
    const parts = await this.loadParts(name)
    if (parts.length === 0) return undefined
    return parts.length === 1 ? parts[0] : Y.mergeUpdates(parts)
  }

  /**
   * Returns the stored state as the snapshot followed by the update rows, empty when nothing
   * is stored. Applying the parts in one transaction is faster than merging them first.
   */
  async loadParts(name: string): Promise<Uint8Array[]> {
    // Rows first: a compaction that commits between the two reads has merged the rows read
    // into the snapshot read next, so nothing is missed. In the other order the merged rows
    // were gone from the log and absent from the older snapshot already read.
    const updates = await this.db
      .selectFrom('document_updates')
      .select(['seq', 'data', 'codec'])
      .where('name', '=', name)
      .orderBy('seq')
      .execute()
    const snapshot = await this.db
      .selectFrom('documents')
      .select('snapshot')
      .where('name', '=', name)
      .executeTakeFirst()

    const parts = updates.map((row) => unpackRow(name, row))
    if (snapshot?.snapshot) parts.unshift(snapshot.snapshot)
    return parts
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
   * row serializes compactions of one document across instances, and with removals, which
   * lock the documents rows first as well. A document removed before or during the
   * compaction stays removed: no row is created for a document without update rows, and a
   * compaction whose rows a removal deleted meanwhile rolls back.
   */
  async compact(name: string): Promise<CompactionResult> {
    if ((await this.pendingUpdateCount(name)) === 0) return { mergedUpdates: 0, snapshotBytes: 0 }
    try {
      return await this.db.transaction().execute((trx) => mergeUpdateRows(trx, name))
    } catch (error) {
      if (error instanceof RemovedDuringCompaction) return { mergedUpdates: 0, snapshotBytes: 0 }
      throw error
    }
  }

  /** Removes a document and its update log. */
  async remove(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // The documents row is locked before the update rows, in the order compaction takes
      // them, so that a removal and a compaction wait for each other instead of deadlocking.
      await trx
        .selectFrom('documents')
        .select('name')
        .where('name', '=', name)
        .forUpdate()
        .execute()
      await trx.deleteFrom('document_updates').where('name', '=', name).execute()
      await trx.deleteFrom('documents').where('name', '=', name).execute()
    })
  }

  /** Removes every document whose name starts with a prefix, such as a conversation's. */
  async removeByPrefix(prefix: string): Promise<void> {
    const escaped = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    const pattern = sql<string>`${escaped}`
    await this.db.transaction().execute(async (trx) => {
      // Locked in the same order as in remove, for the same reason.
      await trx
        .selectFrom('documents')
        .select('name')
        .where('name', 'like', pattern)
        .forUpdate()
        .execute()
      await trx.deleteFrom('document_updates').where('name', 'like', pattern).execute()
      await trx.deleteFrom('documents').where('name', 'like', pattern).execute()
    })
  }
}

/** Unpacks an update row, and names the row's seq in the error when it cannot. */
function unpackRow(
  name: string,
  row: { seq: number; data: Uint8Array; codec: number },
): Uint8Array {
  try {
    return unpackUpdate(row.data, row.codec)
  } catch (error) {
    throw new Error(`failed to unpack update row ${row.seq} of ${name}`, { cause: error })
  }
}

/** Raised inside a compaction's transaction to roll it back after a removal took its rows. */
class RemovedDuringCompaction extends Error {}

/** Merges a document's update rows into its snapshot within a compaction's transaction. */
async function mergeUpdateRows(
  trx: Transaction<Database>,
  name: string,
): Promise<CompactionResult> {
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
    .executeTakeFirst()
  // A removal that held the lock has deleted the row meanwhile.
  if (!current) throw new RemovedDuringCompaction()
  // Read after the lock, so that rows that another compaction or a removal deleted while
  // this one waited are not merged again.
  const updates = await trx
    .selectFrom('document_updates')
    .select(['seq', 'data', 'codec'])
    .where('name', '=', name)
    .orderBy('seq')
    .execute()
  if (updates.length === 0) {
    // The rows went while this waited for the lock. Without a snapshot, a removal took them,
    // and rolling back undoes the row inserted above.
    if (!current.snapshot) throw new RemovedDuringCompaction()
    return { mergedUpdates: 0, snapshotBytes: current.snapshot.length }
  }

  const parts = updates.map((row) => unpackRow(name, row))
  if (current.snapshot) parts.unshift(current.snapshot)
  const snapshot = collectGarbage(Y.mergeUpdates(parts))
  await trx
    .updateTable('documents')
    .set({ snapshot, updated_at: new Date() })
    .where('name', '=', name)
    .execute()
  const deleted = await trx
    .deleteFrom('document_updates')
    .where('name', '=', name)
    .where(
      'seq',
      'in',
      updates.map((row) => row.seq),
    )
    .executeTakeFirst()
  // Only a removal deletes update rows besides compaction, which the row lock serializes.
  if (Number(deleted.numDeletedRows) < updates.length) throw new RemovedDuringCompaction()
  return { mergedUpdates: updates.length, snapshotBytes: snapshot.length }
}

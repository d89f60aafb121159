import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { conversationDocumentName, localDatabaseName } from '../../../shared/document-names.ts'
import { deleteIndexedDatabase, localCopiesKey, readLocalCopies } from './local-copy-budget.ts'
import { unsyncedSegmentsKey } from './unsynced-segments.ts'

/**
 * Deletes every IndexedDB database of a user on this device (conversation documents, their
 * history segments and the private document) and the sync state kept in localStorage with
 * them. Documents stay on the server. Open connections close on `versionchange`, so the
 * deletions complete once they have.
 */
export async function removeLocalData(userId: UserId): Promise<void> {
  const prefix = localDatabaseName(userId, '')
  const names = new Set(await listDatabases(prefix))
  for (const copy of readLocalCopies(localCopiesKey(userId))) names.add(copy.database)
  for (const key of storageKeys(`parley:${userId}:pending:`)) {
    names.add(localDatabaseName(userId, key.slice(`parley:${userId}:pending:`.length)))
  }

  removeStorageKeys(`parley:${userId}:pending:`)
  removeStorageKeys(`parley:${userId}:unsynced-segments:`)
  removeStorageKeys(localCopiesKey(userId))
  await Promise.allSettled([...names].map((name) => deleteIndexedDatabase(name)))
}

/**
 * Deletes the local copies of a deleted conversation's history segments, those not open now
 * included, and returns their database names. The live document's copy is deleted by its
 * own DocumentSync.
 */
export async function removeSegmentCopies(
  userId: UserId,
  conversationId: ConversationId,
): Promise<string[]> {
  const prefix = localDatabaseName(userId, `${conversationDocumentName(conversationId)}:seg:`)
  const names = new Set(await listDatabases(prefix))
  for (const copy of readLocalCopies(localCopiesKey(userId))) {
    if (copy.database.startsWith(prefix)) names.add(copy.database)
  }

  removeStorageKeys(`parley:${userId}:pending:${conversationDocumentName(conversationId)}:seg:`)
  removeStorageKeys(unsyncedSegmentsKey(userId, conversationId))
  await Promise.allSettled([...names].map((name) => deleteIndexedDatabase(name)))
  return [...names]
}

// NOTE: indexedDB.databases() is missing in Firefox before 126. There, only the databases
// that localStorage lists (segment copies, documents with unsent messages) are found.
async function listDatabases(prefix: string): Promise<string[]> {
  if (typeof indexedDB === 'undefined' || typeof indexedDB.databases !== 'function') return []
  try {
    const databases = await indexedDB.databases()
    return databases.flatMap(({ name }) => (name?.startsWith(prefix) ? [name] : []))
  } catch {
    return []
  }
}

function storageKeys(prefix: string): string[] {
  try {
    const keys: string[] = []
    for (let index = 0; index < localStorage.length; index++) {
      const key = localStorage.key(index)
      if (key?.startsWith(prefix)) keys.push(key)
    }
    return keys
  } catch {
    return []
  }
}

function removeStorageKeys(prefix: string): void {
  for (const key of storageKeys(prefix)) {
    try {
      localStorage.removeItem(key)
    } catch {
      // A key that cannot be removed only keeps a stale list of unsent ids or segments.
    }
  }
}

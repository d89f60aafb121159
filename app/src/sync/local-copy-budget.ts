import type { UserId } from '../../../shared/ids.ts'
import { isQuotaExceeded } from './storage-errors.ts'

/**
 * Space in bytes that the local copies of history segments not shown may take on one device,
 * per user. Past it, the copies shown least recently are deleted; they stay on the server.
 * The live documents are not counted, and neither are copies with unsent changes.
 */
export const LOCAL_COPY_BUDGET_BYTES = 50 * 1024 * 1024

/** The IndexedDB copy of one closed history segment. */
export interface LocalCopy {
  database: string
  /** Estimated size in bytes: the segment encoded as one Yjs update when it was last closed. */
  bytes: number
  /** When the segment was last shown, in milliseconds since the epoch. */
  shownAt: number
}

/** Returns the localStorage key of a user's list of segment copies. */
export function localCopiesKey(userId: UserId): string {
  return `parley:${userId}:segment-copies`
}

/**
 * Picks the copies to delete so that the rest fit the budget: least recently shown first,
 * never one in use. Copies in use still count toward the total.
 */
export function chooseEvictions(
  copies: readonly LocalCopy[],
  budgetBytes: number,
  inUse: ReadonlySet<string>,
): string[] {
  let total = copies.reduce((sum, copy) => sum + copy.bytes, 0)
  const candidates = copies
    .filter((copy) => !inUse.has(copy.database))
    .sort((a, b) => a.shownAt - b.shownAt)

  const evicted: string[] = []
  for (const copy of candidates) {
    if (total <= budgetBytes) break
    evicted.push(copy.database)
    total -= copy.bytes
  }
  return evicted
}

export interface LocalCopyBudgetOptions {
  storageKey: string
  budgetBytes?: number
  /** Deletes an IndexedDB database; tests pass a stand-in. */
  deleteDatabase?: (name: string) => Promise<void>
  onQuotaExceeded: () => void
}

/**
 * Keeps the local copies of one user's closed history segments within a budget. Sessions
 * report each segment they open and close, and closing one may delete the copies shown least
 * recently. The list lives in localStorage, so it covers every tab and survives reloads.
 */
export class LocalCopyBudget {
  private readonly inUse = new Set<string>()
  private readonly budgetBytes: number
  private readonly deleteDatabase: (name: string) => Promise<void>

  constructor(private readonly options: LocalCopyBudgetOptions) {
    this.budgetBytes = options.budgetBytes ?? LOCAL_COPY_BUDGET_BYTES
    this.deleteDatabase = options.deleteDatabase ?? deleteIndexedDatabase
  }

  /** Marks a copy as in use, so that it is not deleted while a session shows it. */
  open(database: string): void {
    this.inUse.add(database)
  }

  /**
   * Records a segment closed on this device, with the size of its copy, then deletes copies
   * over the budget. A copy with changes the server has not stored leaves the list instead,
   * so it is never deleted. It joins again when it is next closed with nothing unsent. An
   * inactive conversation's open segment counts too, because it loads again from the server.
   */
  close(database: string, bytes: number, options: { unsynced: boolean; now?: number }): void {
    this.inUse.delete(database)
    const others = this.read().filter((copy) => copy.database !== database)
    const copies = options.unsynced
      ? others
      : [...others, { database, bytes, shownAt: options.now ?? Date.now() }]

    const evicted = new Set(chooseEvictions(copies, this.budgetBytes, this.inUse))
    for (const name of evicted) void this.deleteDatabase(name).catch(() => {})
    this.write(copies.filter((copy) => !evicted.has(copy.database)))
  }

  /** Marks a copy as no longer in use and leaves its entry as it was. */
  release(database: string): void {
    this.inUse.delete(database)
  }

  /** Drops copies from the list without deleting them, after they were deleted elsewhere. */
  forget(databases: readonly string[]): void {
    const gone = new Set(databases)
    this.write(this.read().filter((copy) => !gone.has(copy.database)))
  }

  /** Returns the copies on the list. */
  read(): LocalCopy[] {
    return readLocalCopies(this.options.storageKey)
  }

  private write(copies: readonly LocalCopy[]): void {
    try {
      if (copies.length === 0) localStorage.removeItem(this.options.storageKey)
      else localStorage.setItem(this.options.storageKey, JSON.stringify(copies))
    } catch (error) {
      // NOTE: without localStorage the list loses copies, which then stay on the device until
      // logout removes them.
      if (isQuotaExceeded(error)) this.options.onQuotaExceeded()
    }
  }
}

/** Reads the list of segment copies stored under a localStorage key. */
export function readLocalCopies(storageKey: string): LocalCopy[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(storageKey) ?? '[]')
    return Array.isArray(parsed) ? parsed.filter(isLocalCopy) : []
  } catch {
    return []
  }
}

/** Deletes an IndexedDB database; resolves once it is gone. */
export function deleteIndexedDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name)
    request.onsuccess = () => resolve()
    request.onerror = () => reject(request.error ?? new Error(`deleting ${name} failed`))
  })
}

function isLocalCopy(value: unknown): value is LocalCopy {
  if (typeof value !== 'object' || value === null) return false
  const copy = value as Record<string, unknown>
  return (
    typeof copy.database === 'string' &&
    typeof copy.bytes === 'number' &&
    typeof copy.shownAt === 'number'
  )
}

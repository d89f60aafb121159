import type { IndexeddbPersistence } from 'y-indexeddb'

/**
 * Returns whether an error is the browser's "storage quota exceeded" error, also when lib0
 * has wrapped it into an Error whose message starts with the DOMException's name.
 */
export function isQuotaExceeded(error: unknown): boolean {
  if (error instanceof DOMException) return error.name === 'QuotaExceededError'
  return error instanceof Error && error.message.startsWith('QuotaExceededError')
}

/**
 * Calls `onQuotaExceeded` whenever a write of y-indexeddb to this persistence's database fails
 * for lack of space. y-indexeddb ignores the outcome of its writes, but every IndexedDB
 * request error and transaction abort bubbles up to the database connection, so listening
 * there catches them. Returns a function that stops listening.
 */
export function watchQuotaErrors(
  persistence: IndexeddbPersistence,
  onQuotaExceeded: () => void,
): () => void {
  let database: IDBDatabase | undefined
  let stopped = false
  const handle = (event: Event) => {
    const target = event.target as IDBRequest | IDBTransaction | null
    if (isQuotaExceeded(target?.error)) onQuotaExceeded()
  }

  // This callback runs right after y-indexeddb's own, before any of its requests completes,
  // so the first write is watched too.
  persistence._db.then(
    (opened) => {
      if (stopped) return
      database = opened
      opened.addEventListener('error', handle)
      opened.addEventListener('abort', handle)
    },
    (error: unknown) => {
      if (isQuotaExceeded(error)) onQuotaExceeded()
    },
  )
  return () => {
    stopped = true
    database?.removeEventListener('error', handle)
    database?.removeEventListener('abort', handle)
  }
}

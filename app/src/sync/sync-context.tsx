import type { ReactNode } from 'react'
import { createContext, useContext, useEffect, useState } from 'react'
import type { SyncClientOptions } from './sync-client.ts'
import { SyncClient } from './sync-client.ts'

const SyncContext = createContext<SyncClient | null>(null)

/**
 * Creates the signed-in user's sync client and destroys it when the user changes or logs out.
 * Children render only once the client exists.
 */
export function SyncProvider(props: SyncClientOptions & { children: ReactNode }) {
  const { userId, onNotAuthenticated, onDocumentChanged, onAccessLost, children } = props
  const [client, setClient] = useState<SyncClient | null>(null)

  useEffect(() => {
    const created = new SyncClient({ userId, onNotAuthenticated, onDocumentChanged, onAccessLost })
    setClient(created)
    return () => {
      setClient(null)
      created.destroy()
    }
  }, [userId, onNotAuthenticated, onDocumentChanged, onAccessLost])

  if (!client) return null
  return <SyncContext value={client}>{children}</SyncContext>
}

/** Returns the sync client of the signed-in user. */
export function useSyncClient(): SyncClient {
  const client = useContext(SyncContext)
  if (!client) throw new Error('useSyncClient must be used inside SyncProvider')
  return client
}

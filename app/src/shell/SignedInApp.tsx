import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useEffect, useMemo } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { queryKeys } from '../api/queries.ts'
import { storeUser } from '../auth/stored-user.ts'
import { navigate, type Route } from '../routing/router.ts'
import { SyncProvider } from '../sync/sync-context.tsx'
import { ChatShell } from './ChatShell.tsx'

// Delay in milliseconds that gathers a burst of document changes into one list refetch.
const LIST_REFRESH_DELAY_MS = 500

/** Renders the chat screens inside the signed-in user's sync client. */
export function SignedInApp({ user, route }: { user: User; route: Route }) {
  const queryClient = useQueryClient()

  useEffect(() => {
    if (route.name === 'login' || route.name === 'signup')
      navigate({ name: 'home' }, { replace: true })
  }, [route.name])

  const handleNotAuthenticated = useCallback(() => {
    storeUser(null)
    queryClient.setQueryData(queryKeys.me, null)
  }, [queryClient])

  const refreshList = useMemo(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    return () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        void queryClient.invalidateQueries({ queryKey: queryKeys.conversations(user.id) })
      }, LIST_REFRESH_DELAY_MS)
    }
  }, [queryClient, user.id])

  const handleDocumentChanged = useCallback((_id: ConversationId) => refreshList(), [refreshList])

  return (
    <SyncProvider
      userId={user.id}
      onNotAuthenticated={handleNotAuthenticated}
      onDocumentChanged={handleDocumentChanged}
      onAccessLost={handleDocumentChanged}
    >
      <ChatShell user={user} route={route} />
    </SyncProvider>
  )
}

import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useEffect, useMemo } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { queryKeys } from '../api/queries.ts'
import { storeUser } from '../auth/stored-user.ts'
import { removeFromList } from '../conversations/list-cache.ts'
import { PresenceProvider } from '../presence/presence-context.tsx'
import { navigate, type Route } from '../routing/router.ts'
import { SyncProvider } from '../sync/sync-context.tsx'
import { UserDocumentProvider } from '../user-doc/user-document-context.tsx'
import { ChatShell } from './ChatShell.tsx'

// Delay in milliseconds that gathers a burst of document changes into one list refetch.
const LIST_REFRESH_DELAY_MS = 500

/**
 * Renders the chat screens inside the signed-in user's sync client, private document and
 * presence directory.
 */
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

  // A deleted conversation, or one the user was removed from, leaves the list at once. A
  // device that was offline learns of it here, when the server refuses its document.
  const handleAccessLost = useCallback(
    (conversationId: ConversationId) => {
      removeFromList(queryClient, user.id, conversationId)
      refreshList()
    },
    [queryClient, user.id, refreshList],
  )

  return (
    <SyncProvider
      userId={user.id}
      onNotAuthenticated={handleNotAuthenticated}
      onDocumentChanged={handleDocumentChanged}
      onAccessLost={handleAccessLost}
    >
      <UserDocumentProvider userId={user.id} onNotAuthenticated={handleNotAuthenticated}>
        <PresenceProvider user={user}>
          <ChatShell user={user} route={route} refreshList={refreshList} />
        </PresenceProvider>
      </UserDocumentProvider>
    </SyncProvider>
  )
}

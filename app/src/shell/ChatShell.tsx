import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import type { User } from '../../../shared/api.ts'
import { api } from '../api/endpoints.ts'
import { errorMessage } from '../api/error-message.ts'
import { queryKeys } from '../api/queries.ts'
import { storeUser } from '../auth/stored-user.ts'
import { ConversationView } from '../conversation/ConversationView.tsx'
import { ConversationList } from '../conversations/ConversationList.tsx'
import type { Route } from '../routing/router.ts'
import { useConnectionState } from '../sync/hooks.ts'
import { ConnectionStatus, OfflineBanner } from './ConnectionStatus.tsx'

/** Renders the signed-in layout: the list beside the open conversation, or one at a time on phones. */
export function ChatShell({ user, route }: { user: User; route: Route }) {
  const queryClient = useQueryClient()
  const connection = useConnectionState()
  const [logoutError, setLogoutError] = useState<string | null>(null)

  // The socket cannot tell an expired session from an unreachable server, so a socket that
  // went offline while the browser has a network triggers a refetch of the signed-in user.
  useEffect(() => {
    if (connection === 'offline' && navigator.onLine) {
      void queryClient.invalidateQueries({ queryKey: queryKeys.me })
    }
  }, [connection, queryClient])

  const logout = useMutation({
    mutationFn: api.logout,
    onSuccess: () => {
      storeUser(null)
      queryClient.setQueryData(queryKeys.me, null)
      // The next user of this device must not see this user's lists, but local documents stay.
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] })
    },
    onError: (error) => setLogoutError(errorMessage(error)),
  })

  const openConversation = route.name === 'conversation' ? route.conversationId : null

  return (
    <div className="shell" data-pane={openConversation ? 'conversation' : 'list'}>
      <header className="topbar">
        <div className="topbar__brand">
          <img src="/icon.svg" alt="" width={28} height={28} />
          <span>Parley</span>
        </div>
        <ConnectionStatus state={connection} />
        <div className="topbar__user">
          <span className="topbar__name" title={`@${user.username}`}>
            {user.displayName}
          </span>
          <button
            type="button"
            className="button button--quiet"
            data-testid="logout"
            onClick={() => {
              setLogoutError(null)
              logout.mutate()
            }}
            disabled={logout.isPending}
          >
            Log out
          </button>
        </div>
      </header>
      <OfflineBanner state={connection} />
      {logoutError && (
        <p className="banner banner--error" role="alert">
          Logging out failed: {logoutError}
        </p>
      )}
      <div className="panes">
        <aside className="pane pane--list">
          <ConversationList user={user} selectedId={openConversation} />
        </aside>
        <main className="pane pane--conversation">
          {openConversation ? (
            <ConversationView
              key={openConversation}
              user={user}
              conversationId={openConversation}
            />
          ) : (
            <div className="empty-state">
              <p>Select a conversation, or start a new one.</p>
            </div>
          )}
        </main>
      </div>
    </div>
  )
}

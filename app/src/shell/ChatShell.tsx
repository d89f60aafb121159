import { useQueryClient } from '@tanstack/react-query'
import { useEffect } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { queryKeys } from '../api/queries.ts'
import { ConversationView } from '../conversation/ConversationView.tsx'
import { ConversationList } from '../conversations/ConversationList.tsx'
import { useConversationAlerts } from '../notifications/use-conversation-alerts.ts'
import { useSessionPresence } from '../presence/presence-context.tsx'
import type { Route } from '../routing/router.ts'
import { useConnectionState, useConversationSession } from '../sync/hooks.ts'
import { useUserDocument } from '../user-doc/user-document-context.tsx'
import { ConnectionStatus, OfflineBanner } from './ConnectionStatus.tsx'
import { ProfileMenu } from './ProfileMenu.tsx'

/** Renders the signed-in layout: the list beside the open conversation, or one at a time on phones. */
export function ChatShell(props: { user: User; route: Route; refreshList: () => void }) {
  const { user, route, refreshList } = props
  const queryClient = useQueryClient()
  const connection = useConnectionState()
  const userDocument = useUserDocument()

  // The socket cannot tell an expired session from an unreachable server, so a socket that
  // went offline while the browser has a network triggers a refetch of the signed-in user.
  useEffect(() => {
    if (connection === 'offline' && navigator.onLine) {
      void queryClient.invalidateQueries({ queryKey: queryKeys.me })
    }
  }, [connection, queryClient])

  // The server names a conversation with a new message or read change on the user's own
  // document, so the list (and its counts) refresh without waiting for the next poll.
  useEffect(() => userDocument.onConversationsChanged(refreshList), [userDocument, refreshList])

  useConversationAlerts(user)

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
          <ProfileMenu user={user} />
        </div>
      </header>
      <OfflineBanner state={connection} />
      <div className="panes">
        <aside className="pane pane--list">
          <ConversationList user={user} selectedId={openConversation} />
        </aside>
        <main className="pane pane--conversation">
          {openConversation ? (
            <>
              <OpenConversationPresence conversationId={openConversation} />
              <ConversationView
                key={openConversation}
                user={user}
                conversationId={openConversation}
              />
            </>
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

/**
 * Publishes this user's presence on the open conversation. The entry stays while the session
 * stays open after the user moves on, so others keep seeing this user online there.
 */
function OpenConversationPresence({ conversationId }: { conversationId: ConversationId }) {
  useSessionPresence(useConversationSession(conversationId))
  return null
}

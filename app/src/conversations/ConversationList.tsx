import { useCallback, useMemo, useState } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { errorMessage } from '../api/error-message.ts'
import { isNetworkError } from '../api/http.ts'
import { useConversations } from '../api/queries.ts'
import { NotificationPrompt } from '../notifications/NotificationPrompt.tsx'
import { useUserDocument, useUserDocumentSnapshot } from '../user-doc/user-document-context.tsx'
import type { ListedConversation } from './conversation-counts.ts'
import { orderConversations } from './conversation-order.ts'
import { ConversationItem } from './ConversationItem.tsx'
import { NewChatDialog } from './NewChatDialog.tsx'
import { NewGroupDialog } from './NewGroupDialog.tsx'

type Dialog = 'chat' | 'group' | null

/**
 * Renders the user's conversations, pinned ones first and then by newest activity, and the
 * buttons that start new ones.
 */
export function ConversationList(props: { user: User; selectedId: ConversationId | null }) {
  const { user, selectedId } = props
  const conversations = useConversations(user.id)
  const userDocument = useUserDocument()
  const { pinned, muted, drafts } = useUserDocumentSnapshot()
  const [dialog, setDialog] = useState<Dialog>(null)
  const ordered = useMemo(
    () => orderConversations<ListedConversation>(conversations.data ?? [], pinned),
    [conversations.data, pinned],
  )

  const toggleMute = useCallback(
    (conversation: ListedConversation) =>
      userDocument.setMuted(conversation.id, !userDocument.isMuted(conversation.id)),
    [userDocument],
  )
  const togglePin = useCallback(
    (conversation: ListedConversation) =>
      userDocument.setPinned(conversation.id, !userDocument.isPinned(conversation.id)),
    [userDocument],
  )

  return (
    <section className="list" aria-label="Conversations">
      <div className="list__actions">
        <h2 className="list__heading">Chats</h2>
        <button
          type="button"
          className="button"
          data-testid="new-chat"
          onClick={() => setDialog('chat')}
        >
          New chat
        </button>
        <button
          type="button"
          className="button"
          data-testid="new-group"
          onClick={() => setDialog('group')}
        >
          New group
        </button>
      </div>

      {ordered.length > 0 && <NotificationPrompt userId={user.id} />}

      {conversations.isError && (
        <p className="notice" role="status">
          {isNetworkError(conversations.error)
            ? 'Offline — showing the conversations saved on this device.'
            : `Could not refresh the conversations: ${errorMessage(conversations.error)}`}
        </p>
      )}

      {conversations.data === undefined && conversations.isPending && (
        <p className="list__empty">Loading conversations…</p>
      )}
      {conversations.data?.length === 0 && (
        <p className="list__empty">No conversations yet. Start one with New chat or New group.</p>
      )}

      <ul className="list__items">
        {ordered.map((conversation) => (
          <ConversationItem
            key={conversation.id}
            conversation={conversation}
            viewer={user}
            selected={conversation.id === selectedId}
            muted={muted.has(conversation.id)}
            pinned={pinned.has(conversation.id)}
            draft={drafts.get(conversation.id) ?? ''}
            onToggleMute={toggleMute}
            onTogglePin={togglePin}
          />
        ))}
      </ul>

      {dialog === 'chat' && <NewChatDialog user={user} onClose={() => setDialog(null)} />}
      {dialog === 'group' && <NewGroupDialog user={user} onClose={() => setDialog(null)} />}
    </section>
  )
}

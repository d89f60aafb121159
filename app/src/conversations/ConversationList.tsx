import { useState } from 'react'
import type { Conversation, User } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { isNetworkError } from '../api/http.ts'
import { errorMessage } from '../api/error-message.ts'
import { useConversations } from '../api/queries.ts'
import { navigate } from '../routing/router.ts'
import { formatFullTime, formatShortTime } from '../ui/format-time.ts'
import { Avatar } from '../ui/Avatar.tsx'
import { conversationTitle, memberName } from './conversation-title.ts'
import { NewChatDialog } from './NewChatDialog.tsx'
import { NewGroupDialog } from './NewGroupDialog.tsx'

type Dialog = 'chat' | 'group' | null

/** Renders the user's conversations, newest activity first, and the buttons that start new ones. */
export function ConversationList(props: { user: User; selectedId: ConversationId | null }) {
  const { user, selectedId } = props
  const conversations = useConversations(user.id)
  const [dialog, setDialog] = useState<Dialog>(null)

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
        {conversations.data?.map((conversation) => (
          <ConversationItem
            key={conversation.id}
            conversation={conversation}
            viewer={user}
            selected={conversation.id === selectedId}
          />
        ))}
      </ul>

      {dialog === 'chat' && <NewChatDialog user={user} onClose={() => setDialog(null)} />}
      {dialog === 'group' && <NewGroupDialog user={user} onClose={() => setDialog(null)} />}
    </section>
  )
}

function ConversationItem(props: { conversation: Conversation; viewer: User; selected: boolean }) {
  const { conversation, viewer, selected } = props
  const title = conversationTitle(conversation, viewer.id)
  const last = conversation.lastMessage
  const activity = last?.createdAt ?? conversation.lastActivityAt

  return (
    <li>
      <button
        type="button"
        className={`item${selected ? ' item--selected' : ''}`}
        data-testid="conversation-item"
        data-conversation-id={conversation.id}
        aria-current={selected ? 'page' : undefined}
        onClick={() => navigate({ name: 'conversation', conversationId: conversation.id })}
      >
        <Avatar name={title} group={conversation.kind === 'group'} />
        <span className="item__body">
          <span className="item__top">
            <span className="item__title">{title}</span>
            <time className="item__time" dateTime={activity} title={formatFullTime(activity)}>
              {formatShortTime(activity)}
            </time>
          </span>
          <span className="item__preview">
            {last ? (
              <>
                <span className="item__author">
                  {last.authorId === viewer.id ? 'You' : memberName(conversation, last.authorId)}:
                </span>{' '}
                {last.text}
              </>
            ) : (
              <span className="item__none">No messages yet</span>
            )}
          </span>
        </span>
      </button>
    </li>
  )
}

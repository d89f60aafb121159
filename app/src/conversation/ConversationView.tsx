import { useState } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { ApiError } from '../api/http.ts'
import { useConversation } from '../api/queries.ts'
import { conversationTitle } from '../conversations/conversation-title.ts'
import { navigate } from '../routing/router.ts'
import { useConversationSession, useConversationSnapshot } from '../sync/hooks.ts'
import { Avatar } from '../ui/Avatar.tsx'
import { Composer } from './Composer.tsx'
import { GroupInfoPanel } from './GroupInfoPanel.tsx'
import { MessageList } from './MessageList.tsx'
import { SyncProblemNotice } from './SyncProblemNotice.tsx'

/** Renders one conversation: its messages, the composer and, for groups, the info panel. */
export function ConversationView(props: { user: User; conversationId: ConversationId }) {
  const { user, conversationId } = props
  const { conversation, error } = useConversation(user.id, conversationId)
  const session = useConversationSession(conversationId)
  const snapshot = useConversationSnapshot(session)
  const [showInfo, setShowInfo] = useState(false)

  const notMember = error instanceof ApiError && error.code === 'not_found'
  const title = conversation ? conversationTitle(conversation, user.id) : 'Conversation'
  const isGroup = conversation?.kind === 'group'
  const memberCount = conversation?.members.length ?? 0

  return (
    <div className="conversation">
      <header className="conversation__header">
        <button
          type="button"
          className="icon-button back"
          data-testid="back"
          aria-label="Back to conversations"
          onClick={() => navigate({ name: 'home' })}
        >
          ‹
        </button>
        <Avatar name={title} group={isGroup} />
        <div className="conversation__heading">
          <h2 className="conversation__title">{title}</h2>
          {isGroup && <p className="conversation__subtitle">{memberCount} members</p>}
        </div>
        {isGroup && (
          <button
            type="button"
            className="button button--quiet"
            data-testid="group-info"
            aria-expanded={showInfo}
            onClick={() => setShowInfo(!showInfo)}
          >
            {showInfo ? 'Hide info' : 'Group info'}
          </button>
        )}
      </header>

      <div className="conversation__body">
        <div className="conversation__main">
          {notMember && !snapshot.problem && (
            <p className="notice notice--warning">You no longer have access to this conversation</p>
          )}
          <SyncProblemNotice problem={snapshot.problem} session={session} />
          <MessageList snapshot={snapshot} conversation={conversation} viewerId={user.id} />
          <Composer session={session} disabled={!snapshot.canSend || notMember} />
        </div>
        {isGroup && showInfo && conversation && (
          <GroupInfoPanel
            conversation={conversation}
            user={user}
            onClose={() => setShowInfo(false)}
          />
        )}
      </div>
    </div>
  )
}

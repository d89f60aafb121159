import { useCallback, useEffect, useMemo, useState } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ConversationId, MessageId } from '../../../shared/ids.ts'
import { ApiError } from '../api/http.ts'
import { useConversation } from '../api/queries.ts'
import { conversationTitle } from '../conversations/conversation-title.ts'
import { memberDirectory } from '../messages/member-directory.ts'
import { rememberNames } from '../messages/remembered-names.ts'
import { navigate } from '../routing/router.ts'
import {
  useConnectionState,
  useConversationSession,
  useConversationSnapshot,
} from '../sync/hooks.ts'
import { Avatar } from '../ui/Avatar.tsx'
import { TypingIndicator } from '../presence/TypingIndicator.tsx'
import { Composer } from './Composer.tsx'
import { GroupInfoPanel } from './GroupInfoPanel.tsx'
import { MessageList } from './MessageList.tsx'
import { ResyncNotice } from './ResyncNotice.tsx'
import { StorageNotice } from './StorageNotice.tsx'
import { SyncProblemNotice } from './SyncProblemNotice.tsx'

/** Renders one conversation: its messages, the composer and, for groups, the info panel. */
export function ConversationView(props: { user: User; conversationId: ConversationId }) {
  const { user, conversationId } = props
  const { conversation, error } = useConversation(user.id, conversationId)
  const session = useConversationSession(
    conversationId,
    conversation?.openSegment,
    conversation !== undefined,
  )
  const snapshot = useConversationSnapshot(session)
  const online = useConnectionState() === 'online'
  const [showInfo, setShowInfo] = useState(false)
  const [replyToId, setReplyToId] = useState<MessageId | null>(null)

  const notMember = error instanceof ApiError && error.code === 'not_found'
  const title = conversation ? conversationTitle(conversation, user.id) : 'Conversation'
  const isGroup = conversation?.kind === 'group'
  const memberCount = conversation?.members.length ?? 0
  const members = useMemo(() => memberDirectory(conversation, user.id), [conversation, user.id])
  const canModerate = isGroup && members.isAdmin(user.id)
  const replyTarget = replyToId
    ? snapshot.messages.find((view) => view.message.id === replyToId)?.message
    : undefined

  useEffect(() => {
    if (conversation) rememberNames(user.id, members.members)
  }, [conversation, members, user.id])

  const cancelReply = useCallback(() => setReplyToId(null), [])

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
          <ResyncNotice resynchronization={snapshot.resynchronization} session={session} />
          <StorageNotice storageFull={snapshot.storageFull} session={session} />
          <MessageList
            session={session}
            snapshot={snapshot}
            conversationId={conversationId}
            members={members}
            viewerId={user.id}
            canModerate={canModerate}
            online={online}
            onReply={setReplyToId}
          />
          <TypingIndicator session={session} />
          <Composer
            key={conversationId}
            session={session}
            conversationId={conversationId}
            members={members}
            viewerId={user.id}
            disabled={!snapshot.canSend || notMember}
            replyTarget={replyTarget}
            onCancelReply={cancelReply}
          />
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

import { memo } from 'react'
import type { User } from '../../../shared/api.ts'
import { OnlineDot } from '../presence/OnlineDot.tsx'
import { navigate } from '../routing/router.ts'
import { Avatar } from '../ui/Avatar.tsx'
import { formatFullTime, formatShortTime } from '../ui/format-time.ts'
import type { ListedConversation } from './conversation-counts.ts'
import { badgeText, mentionCountOf, unreadCountOf } from './conversation-counts.ts'
import { conversationTitle, memberName, otherMembers } from './conversation-title.ts'
import { ConversationMenu } from './ConversationMenu.tsx'

/**
 * One conversation in the list: avatar, title, time, preview and badges, with a menu to mute
 * and pin it. A muted conversation shows dimmed and without its unread count, but with its
 * mention badge.
 */
export const ConversationItem = memo(function ConversationItem(props: {
  conversation: ListedConversation
  viewer: User
  selected: boolean
  muted: boolean
  pinned: boolean
  /** Unsent composer text, shown in place of the last message. */
  draft: string
  onToggleMute: (conversation: ListedConversation) => void
  onTogglePin: (conversation: ListedConversation) => void
}) {
  const { conversation, viewer, selected, muted, pinned, draft, onToggleMute, onTogglePin } = props
  const title = conversationTitle(conversation, viewer.id)
  const activity = conversation.lastMessage?.createdAt ?? conversation.lastActivityAt
  // The open conversation is being read, so its count would only flash until the read marker.
  const unread = selected ? 0 : unreadCountOf(conversation)
  const mentions = selected ? 0 : mentionCountOf(conversation)
  const peer = conversation.kind === 'direct' ? otherMembers(conversation, viewer.id)[0] : undefined
  const classes = [
    'item',
    selected && 'item--selected',
    muted && 'item--muted',
    unread > 0 && !muted && 'item--unread',
  ]

  return (
    <li
      className="list__item"
      data-testid="conversation-row"
      data-conversation-id={conversation.id}
    >
      <button
        type="button"
        className={classes.filter(Boolean).join(' ')}
        data-testid="conversation-item"
        data-conversation-id={conversation.id}
        data-muted={muted}
        data-pinned={pinned}
        aria-current={selected ? 'page' : undefined}
        onClick={() => navigate({ name: 'conversation', conversationId: conversation.id })}
      >
        <span className="avatar-presence">
          <Avatar name={title} group={conversation.kind === 'group'} />
          {peer && <OnlineDot userId={peer.id} />}
        </span>
        <span className="item__body">
          <span className="item__top">
            <span className="item__title">{title}</span>
            {pinned && <PinIcon />}
            {muted && <MutedIcon />}
            <time className="item__time" dateTime={activity} title={formatFullTime(activity)}>
              {formatShortTime(activity)}
            </time>
          </span>
          <span className="item__bottom">
            <Preview conversation={conversation} viewer={viewer} draft={selected ? '' : draft} />
            {mentions > 0 && (
              <span
                className="count count--mention"
                data-testid="mention-badge"
                title={`${mentions} unread ${mentions === 1 ? 'mention' : 'mentions'}`}
              >
                @
              </span>
            )}
            {unread > 0 && !muted && (
              <span className="count" data-testid="unread-badge" title={`${unread} unread`}>
                {badgeText(unread)}
              </span>
            )}
          </span>
        </span>
      </button>
      <ConversationMenu
        title={title}
        muted={muted}
        pinned={pinned}
        onToggleMute={() => onToggleMute(conversation)}
        onTogglePin={() => onTogglePin(conversation)}
      />
    </li>
  )
})

function Preview(props: { conversation: ListedConversation; viewer: User; draft: string }) {
  const { conversation, viewer, draft } = props
  const last = conversation.lastMessage
  if (draft.trim()) {
    return (
      <span className="item__preview">
        <span className="item__draft">Draft:</span> {draft}
      </span>
    )
  }
  if (!last) {
    return (
      <span className="item__preview">
        <span className="item__none">No messages yet</span>
      </span>
    )
  }
  const author = last.authorId === viewer.id ? 'You' : memberName(conversation, last.authorId)
  return (
    <span className="item__preview">
      <span className="item__author">{author}:</span>{' '}
      {/* The server keeps no text of a deleted or removed message, so the preview is empty. */}
      {last.text || <span className="item__none">Message deleted</span>}
    </span>
  )
}

function PinIcon() {
  return (
    <svg
      className="item__flag"
      viewBox="0 0 16 16"
      width="13"
      height="13"
      role="img"
      aria-label="Pinned"
    >
      <path d="M6 2h4l-.5 4 2.5 2.5V10H9v4l-1 1-1-1v-4H4V8.5L6.5 6z" fill="currentColor" />
    </svg>
  )
}

function MutedIcon() {
  return (
    <svg
      className="item__flag"
      viewBox="0 0 16 16"
      width="13"
      height="13"
      role="img"
      aria-label="Muted"
    >
      <path
        d="M8 2.5a3.5 3.5 0 0 0-3.5 3.5v2.6L3 10.5v1h10v-1l-1.5-1.9V6A3.5 3.5 0 0 0 8 2.5zM6.5 12.5a1.5 1.5 0 0 0 3 0z"
        fill="currentColor"
      />
      <path d="M2.5 2.5l11 11" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" />
    </svg>
  )
}

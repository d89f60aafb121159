import { useLayoutEffect, useRef } from 'react'
import type { Conversation } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'
import { memberName } from '../conversations/conversation-title.ts'
import type { ConversationSnapshot } from '../sync/conversation-session.ts'
import { MessageItem } from './MessageItem.tsx'

// Distance in pixels from the bottom within which the list follows new messages.
const FOLLOW_THRESHOLD_PX = 120

/** Renders the messages of a conversation in document order, kept scrolled to the newest. */
export function MessageList(props: {
  snapshot: ConversationSnapshot
  conversation: Conversation | undefined
  viewerId: UserId
}) {
  const { snapshot, conversation, viewerId } = props
  const scroller = useRef<HTMLDivElement>(null)
  const following = useRef(true)
  const newest = snapshot.messages.at(-1)

  // Follow new messages while the reader is at the bottom, and always after sending.
  useLayoutEffect(() => {
    const element = scroller.current
    if (!element) return
    const ownNewest = newest?.message.authorId === viewerId
    if (following.current || ownNewest) element.scrollTop = element.scrollHeight
  }, [newest, viewerId])

  function handleScroll() {
    const element = scroller.current
    if (!element) return
    const distance = element.scrollHeight - element.scrollTop - element.clientHeight
    following.current = distance < FOLLOW_THRESHOLD_PX
  }

  return (
    <div className="messages" ref={scroller} onScroll={handleScroll}>
      {!snapshot.loaded && <p className="messages__empty">Loading messages…</p>}
      {snapshot.loaded && snapshot.messages.length === 0 && !snapshot.problem && (
        <p className="messages__empty">No messages yet. Say hello!</p>
      )}
      <ol className="messages__list">
        {snapshot.messages.map((view) => (
          <MessageItem
            key={view.message.id}
            view={view}
            authorName={memberName(conversation, view.message.authorId)}
          />
        ))}
      </ol>
    </div>
  )
}

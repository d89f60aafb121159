import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import type { ChatMessage } from '../../../shared/chat-document.ts'
import type { ConversationId, MessageId, UserId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { buildTimeline, readersByMessage } from '../messages/timeline.ts'
import type { ConversationSession, ConversationSnapshot } from '../sync/conversation-session.ts'
import type { MessageContext } from './MessageItem.tsx'
import { MessageItem } from './MessageItem.tsx'
import { HistoryEdge } from './HistoryEdge.tsx'
import { SystemEventRow } from './SystemEventRow.tsx'
import { useHistoryScroll } from './use-history-scroll.ts'
import { useFirstUnread, useReadMarking } from './use-read-tracking.ts'

// Distance in pixels from the bottom within which the list follows new messages.
const FOLLOW_THRESHOLD_PX = 120
// How long in milliseconds a message stays highlighted after a jump to it.
const HIGHLIGHT_MS = 1_600

/**
 * Renders the timeline of a conversation, kept scrolled to the newest message: messages,
 * system events and the "New messages" divider. Scrolling back loads older history segments.
 * Marks the newest message read while shown.
 */
export function MessageList(props: {
  session: ConversationSession
  snapshot: ConversationSnapshot
  conversationId: ConversationId
  members: MemberDirectory
  viewerId: UserId
  canModerate: boolean
  online: boolean
  onReply: (messageId: MessageId) => void
}) {
  const { session, snapshot, conversationId, members, viewerId, canModerate, online } = props
  const { onReply } = props
  const scroller = useRef<HTMLDivElement>(null)
  const following = useRef(true)
  const [activeId, setActiveId] = useState<MessageId | null>(null)
  const [highlightedId, setHighlightedId] = useState<MessageId | null>(null)
  // A message to scroll to once an older segment holding it has rendered.
  const [pendingJump, setPendingJump] = useState<MessageId | null>(null)
  const [unreadAbove, setUnreadAbove] = useState(false)
  const newest = snapshot.messages.at(-1)
  const firstUnread = useFirstUnread(snapshot, viewerId)
  const checkRead = useReadMarking(session, scroller, newest?.message.id, firstUnread !== undefined)

  const { history } = snapshot
  const earlierHistory = history.firstSegment > 0
  const timeline = useMemo(
    () =>
      buildTimeline(snapshot.messages, snapshot.systemEvents, firstUnread ?? undefined, {
        earlier: earlierHistory,
        synced: snapshot.synced,
      }),
    [snapshot.messages, snapshot.systemEvents, firstUnread, earlierHistory, snapshot.synced],
  )
  const readers = useMemo(
    () => readersByMessage(snapshot.messages, snapshot.readMarkers, viewerId),
    [snapshot.messages, snapshot.readMarkers, viewerId],
  )
  const byId = useMemo(() => {
    const messages = new Map<MessageId, ChatMessage>()
    for (const view of snapshot.messages) messages.set(view.message.id, view.message)
    return messages
  }, [snapshot.messages])

  // The original of a reply that no segment shown contains is fetched from the server, so
  // that its quote shows the text before the segment loads.
  useEffect(() => {
    if (!earlierHistory) return
    for (const view of snapshot.messages) {
      const { replyTo } = view.message
      if (replyTo && !byId.has(replyTo)) session.requestQuote(replyTo)
    }
  }, [session, snapshot.messages, byId, earlierHistory, online])

  // A reply's original that is not shown may sit in an older segment, which loads first.
  const jumpTo = useCallback(
    (messageId: MessageId) => {
      const element = findMessage(scroller.current, messageId)
      if (element) {
        following.current = false
        element.scrollIntoView({ block: 'center', behavior: 'smooth' })
        setHighlightedId(messageId)
        return
      }
      setPendingJump(messageId)
      void session.findEarlier(messageId).then((found) => {
        if (!found) setPendingJump((current) => (current === messageId ? null : current))
      })
    },
    [session],
  )

  useEffect(() => {
    if (!highlightedId) return
    const timer = setTimeout(() => setHighlightedId(null), HIGHLIGHT_MS)
    return () => clearTimeout(timer)
  }, [highlightedId])

  const activate = useCallback((messageId: MessageId) => {
    setActiveId((current) => (current === messageId ? null : messageId))
  }, [])

  const context: MessageContext = useMemo(
    () => ({
      session,
      conversationId,
      members,
      viewerId,
      canModerate,
      writable: snapshot.canSend,
      earlierHistory,
      online,
      onReply,
      onJump: jumpTo,
      onActivate: activate,
    }),
    [
      session,
      conversationId,
      members,
      viewerId,
      canModerate,
      snapshot.canSend,
      earlierHistory,
      online,
      onReply,
      jumpTo,
      activate,
    ],
  )

  // Follow new messages while the reader is at the bottom, and always after sending. Only a
  // new message counts. Other changes, such as a read marker, re-render the list during a
  // smooth scroll away from the bottom that may still count as following.
  const newestId = newest?.message.id
  const ownNewest = newest?.message.authorId === viewerId
  const messageCount = snapshot.messages.length
  const followedId = useRef<MessageId | undefined>(undefined)
  useLayoutEffect(() => {
    const element = scroller.current
    if (!element) return
    // Older segments loading above change the count too, and must not count as sending.
    const arrived = newestId !== followedId.current
    followedId.current = newestId
    if (arrived && ownNewest) following.current = true
    if (following.current) element.scrollTop = element.scrollHeight
  }, [newestId, ownNewest, messageCount])

  const handleHistoryScroll = useHistoryScroll({
    scroller,
    session,
    history,
    following,
    oldestMessageId: snapshot.messages[0]?.message.id,
    // Segments loaded to find a reply's original stay until the list has scrolled to it.
    paused: pendingJump !== null,
  })

  useLayoutEffect(() => {
    const element = pendingJump && findMessage(scroller.current, pendingJump)
    if (!element) return
    following.current = false
    element.scrollIntoView({ block: 'center' })
    setHighlightedId(pendingJump)
    setPendingJump(null)
  }, [pendingJump, timeline])

  const updateUnreadAbove = useCallback(() => {
    const list = scroller.current
    const divider = list?.querySelector('[data-testid="new-messages-divider"]')
    if (!list || !divider) {
      setUnreadAbove(false)
      return
    }
    setUnreadAbove(divider.getBoundingClientRect().bottom < list.getBoundingClientRect().top)
  }, [])

  useLayoutEffect(updateUnreadAbove, [timeline, updateUnreadAbove])

  function handleScroll() {
    const element = scroller.current
    if (!element) return
    const distance = element.scrollHeight - element.scrollTop - element.clientHeight
    following.current = distance < FOLLOW_THRESHOLD_PX
    updateUnreadAbove()
    checkRead()
    handleHistoryScroll()
  }

  // A jump leaves the bottom at once. Until the first scroll event of a smooth scroll, the
  // list would otherwise still follow, and any change would pull it back to the bottom.
  function jumpToUnread() {
    const divider = scroller.current?.querySelector('[data-testid="new-messages-divider"]')
    if (!divider) return
    following.current = false
    divider.scrollIntoView({ block: 'start', behavior: 'smooth' })
  }

  return (
    <div className="messages-frame">
      {unreadAbove && (
        <button
          type="button"
          className="jump-unread"
          data-testid="jump-unread"
          onClick={jumpToUnread}
        >
          ↑ Jump to first unread
        </button>
      )}
      <div
        className="messages"
        data-testid="messages"
        data-first-segment={history.firstSegment}
        data-open-segment={history.openSegment}
        ref={scroller}
        onScroll={handleScroll}
        onClick={(event) => {
          // A tap beside the messages hides the actions a tap on a message showed.
          if (!(event.target as HTMLElement).closest('.message')) setActiveId(null)
        }}
      >
        {!snapshot.loaded && <p className="messages__empty">Loading messages…</p>}
        {snapshot.loaded && snapshot.messages.length > 0 && <HistoryEdge history={history} />}
        {snapshot.loaded && snapshot.messages.length === 0 && !snapshot.problem && (
          <p className="messages__empty">No messages yet. Say hello!</p>
        )}
        <ol className="messages__list">
          {timeline.map((item) => {
            switch (item.kind) {
              case 'new-messages':
                return (
                  <li
                    key="new-messages"
                    className="new-messages"
                    data-testid="new-messages-divider"
                    role="separator"
                  >
                    <span>New messages</span>
                  </li>
                )
              case 'event':
                return (
                  <SystemEventRow
                    key={`event:${item.event.id}`}
                    event={item.event}
                    members={members}
                  />
                )
              case 'message': {
                const { message } = item.view
                return (
                  <MessageItem
                    key={message.id}
                    view={item.view}
                    context={context}
                    reactions={snapshot.reactions.get(message.id)}
                    readers={readers.get(message.id)}
                    original={
                      message.replyTo
                        ? (byId.get(message.replyTo) ?? snapshot.quotes.get(message.replyTo))
                        : undefined
                    }
                    active={activeId === message.id}
                    highlighted={highlightedId === message.id}
                  />
                )
              }
            }
          })}
        </ol>
      </div>
    </div>
  )
}

function findMessage(list: HTMLElement | null, messageId: MessageId): HTMLElement | null {
  return list?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(messageId)}"]`) ?? null
}

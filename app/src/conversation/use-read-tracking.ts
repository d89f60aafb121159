import type { RefObject } from 'react'
import { useCallback, useEffect, useState } from 'react'
import type { MessageId, UserId } from '../../../shared/ids.ts'
import { firstUnreadMessage } from '../messages/timeline.ts'
import type { ConversationSession, ConversationSnapshot } from '../sync/conversation-session.ts'

// Time in milliseconds after loading the local copy after which the first unread message is
// taken from that copy, without waiting any longer for the first sync with the server.
const FIRST_SYNC_WAIT_MS = 3_000

/**
 * Returns the first unread message as it was when the conversation opened: undefined until
 * known, then the id, or null when everything was read. It is taken once the document has
 * synced with the server, or from the local copy when that sync takes too long. It is then
 * kept, so the divider stays while the own read marker moves on.
 */
export function useFirstUnread(
  snapshot: ConversationSnapshot,
  viewerId: UserId,
): MessageId | null | undefined {
  const [firstUnread, setFirstUnread] = useState<MessageId | null | undefined>(undefined)
  const [waited, setWaited] = useState(false)
  const { loaded, synced } = snapshot
  // The first page may include the segment before the open one, which loads after the open
  // segment has synced. The first unread message can be in that segment.
  const pageLoaded = snapshot.history.ready && !snapshot.history.loadingOlder
  const settled = synced && pageLoaded

  useEffect(() => {
    if (!loaded || settled) return
    const timer = setTimeout(() => setWaited(true), FIRST_SYNC_WAIT_MS)
    return () => clearTimeout(timer)
  }, [loaded, settled])

  const ready = loaded && (settled || waited)
  if (ready && firstUnread === undefined) {
    const marker = snapshot.readMarkers.get(viewerId)
    // Setting state during render is React's documented way to derive state once.
    setFirstUnread(firstUnreadMessage(snapshot.messages, marker, viewerId) ?? null)
  }
  return firstUnread
}

/**
 * Moves the own read marker to the newest message whenever it is on screen in a visible
 * page: after each change, on scroll and when the page becomes visible. The session
 * throttles the writes and moves the marker forward only.
 */
export function useReadMarking(
  session: ConversationSession,
  scroller: RefObject<HTMLElement | null>,
  newestId: MessageId | undefined,
  enabled: boolean,
): () => void {
  const check = useCallback(() => {
    const list = scroller.current
    if (!enabled || !list || !newestId || document.visibilityState !== 'visible') return
    const element = list.querySelector(`[data-message-id="${CSS.escape(newestId)}"]`)
    if (!element) return
    const bounds = list.getBoundingClientRect()
    const rect = element.getBoundingClientRect()
    if (rect.top < bounds.bottom && rect.bottom > bounds.top) session.markRead(newestId)
  }, [session, scroller, newestId, enabled])

  // Layout changes without a new newest message (an edit, a reaction) can also bring it into
  // view, so the check runs after every render. It reads positions only, and the session
  // throttles the writes.
  useEffect(check)

  useEffect(() => {
    document.addEventListener('visibilitychange', check)
    return () => document.removeEventListener('visibilitychange', check)
  }, [check])

  return check
}

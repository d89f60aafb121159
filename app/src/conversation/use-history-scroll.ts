import type { RefObject } from 'react'
import { useCallback, useEffect, useLayoutEffect, useRef } from 'react'
import type { ConversationSession, HistoryView } from '../sync/conversation-session.ts'
import type { ScrollAnchor } from './history-scroll.ts'
import {
  anchoredScrollTop,
  firstVisibleRow,
  shouldLoadOlder,
  shouldReleaseOldest,
} from './history-scroll.ts'

const MESSAGE_ROWS = '[data-testid="message"]'

/**
 * Loads older history segments as the reader scrolls back and releases them once they are far
 * out of view. When a segment is added or removed above, the message the reader was looking
 * at stays where it was, or the list stays at the bottom while the reader follows the newest
 * message. Returns the handler for the list's scroll events.
 */
export function useHistoryScroll(options: {
  scroller: RefObject<HTMLElement | null>
  session: ConversationSession
  history: HistoryView
  /** True while the list follows new messages at its bottom. */
  following: RefObject<boolean>
  /** Id of the oldest message shown, which changes when a segment is added or removed above. */
  oldestMessageId: string | undefined
  /** True while segments must neither load nor be released. */
  paused: boolean
}): () => void {
  const { scroller, session, history, following, oldestMessageId, paused } = options
  const { firstSegment, ready, loadingOlder, searching } = history
  const anchor = useRef<ScrollAnchor | null>(null)

  const capture = useCallback(() => {
    const list = scroller.current
    anchor.current = list ? measureAnchor(list) : null
  }, [scroller])

  const loadOrRelease = useCallback(() => {
    const list = scroller.current
    if (!list || paused || !ready || loadingOlder || searching) return
    if (firstSegment > 0 && shouldLoadOlder(list)) {
      session.loadOlder()
      return
    }
    const oldestBottom = lastRowBottom(list, firstSegment)
    if (oldestBottom !== undefined && shouldReleaseOldest(oldestBottom, list.clientHeight)) {
      session.releaseOldest()
    }
  }, [scroller, session, paused, firstSegment, ready, loadingOlder, searching])

  // Runs after React has changed the rows and before the browser paints them, so the reader
  // never sees the list jump. The browser's own scroll anchoring covers most changes, but the
  // CSS Scroll Anchoring spec turns it off at scroll offset 0, where a segment loaded above
  // matters most. Writing scrollTop only when it changes keeps a smooth scroll going.
  useLayoutEffect(() => {
    const list = scroller.current
    if (!list || oldestMessageId === undefined) return
    if (following.current) {
      const bottom = list.scrollHeight - list.clientHeight
      if (Math.abs(list.scrollTop - bottom) >= 1) list.scrollTop = bottom
    } else if (anchor.current) {
      const element = findRow(list, anchor.current.messageId)
      if (element) {
        const top = element.getBoundingClientRect().top - list.getBoundingClientRect().top
        const next = anchoredScrollTop(list.scrollTop, anchor.current, top)
        if (Math.abs(next - list.scrollTop) >= 1) list.scrollTop = next
      }
    }
    capture()
  }, [oldestMessageId, scroller, following, capture])

  // A loaded segment may still leave the list short of its viewport, so this checks again.
  useLayoutEffect(loadOrRelease, [loadOrRelease, oldestMessageId])

  // Segments scrolled back to leave memory when the conversation leaves the screen.
  useEffect(() => () => session.releaseToFirstPage(), [session])

  return useCallback(() => {
    capture()
    loadOrRelease()
  }, [capture, loadOrRelease])
}

function measureAnchor(list: HTMLElement): ScrollAnchor | null {
  const rows = list.querySelectorAll<HTMLElement>(MESSAGE_ROWS)
  const listTop = list.getBoundingClientRect().top
  const index = firstVisibleRow(
    rows.length,
    (i) => (rows[i]?.getBoundingClientRect().bottom ?? 0) - listTop,
  )
  const row = rows[index]
  const messageId = row?.dataset.messageId
  if (!row || !messageId) return null
  return { messageId, top: row.getBoundingClientRect().top - listTop }
}

function lastRowBottom(list: HTMLElement, segment: number): number | undefined {
  const rows = list.querySelectorAll<HTMLElement>(`${MESSAGE_ROWS}[data-segment="${segment}"]`)
  const last = rows[rows.length - 1]
  if (!last) return undefined
  return last.getBoundingClientRect().bottom - list.getBoundingClientRect().top
}

function findRow(list: HTMLElement, messageId: string): HTMLElement | null {
  return list.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(messageId)}"]`)
}

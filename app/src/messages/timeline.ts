import type { ReadMarker, SystemEvent } from '../../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../../shared/ids.ts'
import type { MessageView } from '../sync/conversation-session.ts'

/** One row of the conversation timeline. */
export type TimelineItem =
  | { kind: 'message'; view: MessageView }
  | { kind: 'event'; event: SystemEvent }
  | { kind: 'new-messages' }

/** State of the history that the timeline does not show. */
export interface TimelineHistory {
  /** Older history segments exist that are not shown. */
  earlier: boolean
  /** The documents shown have synced with the server. */
  synced: boolean
}

const FULL_HISTORY: TimelineHistory = { earlier: false, synced: true }

/**
 * Interleaves system events with the messages: each event right after the message that was
 * newest when it happened, events with no message first. Events whose message this copy
 * lacks (not yet synced) come last. The "new messages" divider goes before firstUnreadId.
 * While older segments are not shown, events that belong to them are left out: those with no
 * message, and those whose message is missing once the shown documents have synced or a
 * later event has its message here.
 */
export function buildTimeline(
  messages: readonly MessageView[],
  events: readonly SystemEvent[],
  firstUnreadId: MessageId | undefined,
  history: TimelineHistory = FULL_HISTORY,
): TimelineItem[] {
  const known = new Set(messages.map((view) => view.message.id))
  const lastPlaced = events.findLastIndex(
    (event) => event.afterMessageId !== null && known.has(event.afterMessageId),
  )
  const eventsAfter = new Map<MessageId | null, SystemEvent[]>()
  const unplaced: SystemEvent[] = []
  events.forEach((event, index) => {
    const anchor = event.afterMessageId
    const missing = anchor !== null && !known.has(anchor)
    if (
      history.earlier &&
      (anchor === null || (missing && (history.synced || index < lastPlaced)))
    ) {
      return
    }
    if (missing) {
      unplaced.push(event)
      return
    }
    eventsAfter.set(anchor, [...(eventsAfter.get(anchor) ?? []), event])
  })

  const items: TimelineItem[] = []
  const pushEvents = (list: SystemEvent[] | undefined) => {
    for (const event of list ?? []) items.push({ kind: 'event', event })
  }
  pushEvents(eventsAfter.get(null))
  for (const view of messages) {
    if (view.message.id === firstUnreadId) items.push({ kind: 'new-messages' })
    items.push({ kind: 'message', view })
    pushEvents(eventsAfter.get(view.message.id))
  }
  pushEvents(unplaced)
  return items
}

/**
 * Returns the first message by someone else after the viewer's read marker, or undefined when
 * there is none. Without a marker, every message by someone else counts as unread. With a
 * marker on a message this copy lacks, the messages written after the marker was set count
 * as unread.
 */
export function firstUnreadMessage(
  messages: readonly MessageView[],
  marker: ReadMarker | undefined,
  viewerId: UserId,
): MessageId | undefined {
  let start = 0
  if (marker) {
    const index = messages.findIndex((view) => view.message.id === marker.messageId)
    // A marker on a message that is not loaded, usually one in an older history segment,
    // leaves unread the messages written after the marker was set. The clocks of two devices
    // decide that, so it is an estimate, used only where the marker's message is missing.
    start =
      index >= 0 ? index + 1 : messages.findIndex((view) => view.message.createdAt > marker.at)
    if (start < 0) return undefined
  }
  for (const view of messages.slice(start)) {
    if (view.message.authorId !== viewerId) return view.message.id
  }
  return undefined
}

/**
 * Places each other member's read marker under the viewer's newest own message at or before
 * it, so that "Seen by" shows once per reader. Returns the readers by message id.
 */
export function readersByMessage(
  messages: readonly MessageView[],
  markers: ReadonlyMap<UserId, ReadMarker>,
  viewerId: UserId,
): Map<MessageId, UserId[]> {
  const indexOf = new Map(messages.map((view, index) => [view.message.id, index]))
  const result = new Map<MessageId, UserId[]>()
  for (const [readerId, marker] of markers) {
    if (readerId === viewerId) continue
    const markerIndex = indexOf.get(marker.messageId)
    if (markerIndex === undefined) continue

    for (let index = markerIndex; index >= 0; index--) {
      const message = messages[index]?.message
      if (message?.authorId !== viewerId || message.deleted || message.moderated) continue
      result.set(message.id, [...(result.get(message.id) ?? []), readerId])
      break
    }
  }
  return result
}

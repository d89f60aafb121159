import type { HistoryView } from '../sync/conversation-session.ts'

/**
 * Renders the top of the message list: a loading row while an older segment loads, the start
 * of the conversation once the live document's own messages are shown, nothing in between.
 */
export function HistoryEdge({ history }: { history: HistoryView }) {
  if (history.loadingOlder || history.searching) {
    return (
      <p className="messages__edge" data-testid="history-loading" role="status">
        Loading earlier messages…
      </p>
    )
  }
  if (history.firstSegment > 0) return null
  return (
    <p className="messages__edge" data-testid="conversation-start">
      Start of the conversation
    </p>
  )
}

import type { ConversationSession, Resynchronization } from '../sync/conversation-session.ts'

/**
 * Tells the user that the server rejected a change from this device, that the conversation
 * was loaded again from the server, and what happened to their unsent messages.
 */
export function ResyncNotice(props: {
  resynchronization: Resynchronization | null
  session: ConversationSession
}) {
  const { resynchronization, session } = props
  if (!resynchronization) return null
  const { resent, lost, rewritten } = resynchronization

  return (
    <div className="notice notice--warning" data-testid="resync-notice" role="status">
      <p>
        The server rejected a change from this device, so this conversation was loaded again from
        the server.
        {resent > 0 && ` ${resentSentence(resent)}`}
        {lost > 0 && ` ${lostSentence(lost)}`}
        {rewritten > 0 && ` ${rewrittenSentence(rewritten)}`}
      </p>
      <button
        type="button"
        className="button button--small"
        onClick={() => session.dismissResynchronization()}
      >
        Dismiss
      </button>
    </div>
  )
}

function resentSentence(count: number): string {
  if (count === 1) return 'Your unsent message was sent again as a new message.'
  return `Your ${count} unsent messages were sent again as new messages.`
}

function lostSentence(count: number): string {
  if (count === 1) return 'One unsent message could not be sent again.'
  return `${count} unsent messages could not be sent again.`
}

function rewrittenSentence(count: number): string {
  if (count === 1) return 'Your unsent edit or reaction was made again.'
  return `Your ${count} unsent edits and reactions were made again.`
}

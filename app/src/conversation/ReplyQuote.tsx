import type { ChatMessage } from '../../../shared/chat-document.ts'
import type { MessageId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { removedPlaceholder } from '../messages/removed-placeholder.ts'

/**
 * Renders the quote of the message a reply answers, with its current text. Pressing it
 * scrolls to the original. `original` is undefined when no segment shown contains that
 * message and the server has not returned it, as while offline. While older segments are
 * not shown, the quote is then neutral, and pressing it loads them until the original is found.
 */
export function ReplyQuote(props: {
  replyTo: MessageId
  original: ChatMessage | undefined
  /** Older history segments exist that are not shown. */
  earlier: boolean
  members: MemberDirectory
  onJump: (messageId: MessageId) => void
}) {
  const { replyTo, original, earlier, members, onJump } = props
  const author = original ? members.nameOf(original.authorId) : undefined
  const reachable = original !== undefined || earlier

  return (
    <button
      type="button"
      className="reply-quote"
      data-testid="reply-quote"
      data-reply-to={replyTo}
      disabled={!reachable}
      title={reachable ? 'Show the original message' : undefined}
      onClick={() => onJump(replyTo)}
    >
      {author && <span className="reply-quote__author">{author}</span>}
      <span className={`reply-quote__text${original?.text ? '' : ' reply-quote__text--removed'}`}>
        {quoteText(original, earlier, members)}
      </span>
    </button>
  )
}

function quoteText(
  original: ChatMessage | undefined,
  earlier: boolean,
  members: MemberDirectory,
): string {
  if (original) return removedPlaceholder(original, members.nameOf) ?? original.text
  return earlier ? 'Earlier message' : 'Original message not available'
}

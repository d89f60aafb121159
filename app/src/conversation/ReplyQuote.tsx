import type { ChatMessage } from '../../../shared/chat-document.ts'
import type { MessageId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { removedPlaceholder } from '../messages/removed-placeholder.ts'

/**
 * Renders the quote of the message a reply answers, with its current text. Pressing it
 * scrolls to the original. `original` is undefined when this copy lacks that message.
 */
export function ReplyQuote(props: {
  replyTo: MessageId
  original: ChatMessage | undefined
  members: MemberDirectory
  onJump: (messageId: MessageId) => void
}) {
  const { replyTo, original, members, onJump } = props
  const author = original ? members.nameOf(original.authorId) : undefined
  const text = original
    ? (removedPlaceholder(original, members.nameOf) ?? original.text)
    : 'Original message not available'

  return (
    <button
      type="button"
      className="reply-quote"
      data-testid="reply-quote"
      data-reply-to={replyTo}
      disabled={!original}
      title={original ? 'Show the original message' : undefined}
      onClick={() => onJump(replyTo)}
    >
      {author && <span className="reply-quote__author">{author}</span>}
      <span className={`reply-quote__text${original?.text ? '' : ' reply-quote__text--removed'}`}>
        {text}
      </span>
    </button>
  )
}

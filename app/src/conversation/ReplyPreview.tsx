import type { ChatMessage } from '../../../shared/chat-document.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { removedPlaceholder } from '../messages/removed-placeholder.ts'

/** Renders the message being replied to above the composer, with a way to cancel the reply. */
export function ReplyPreview(props: {
  target: ChatMessage
  members: MemberDirectory
  onCancel: () => void
}) {
  const { target, members, onCancel } = props
  const text = removedPlaceholder(target, members.nameOf) ?? target.text

  return (
    <div className="reply-preview" data-testid="reply-preview">
      <div className="reply-preview__body">
        <span className="reply-preview__label">
          Replying to <strong>{members.nameOf(target.authorId)}</strong>
        </span>
        <span className="reply-preview__text">{text}</span>
      </div>
      <button
        type="button"
        className="icon-button reply-preview__cancel"
        data-testid="reply-cancel"
        aria-label="Cancel reply"
        onClick={onCancel}
      >
        ×
      </button>
    </div>
  )
}

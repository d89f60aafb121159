import type { ChatMessage } from '../../../shared/chat-document.ts'
import type { UserId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { splitMentions } from '../messages/mention-text.ts'

/** Renders a message text with the mentions of current members highlighted. */
export function MessageText(props: {
  message: ChatMessage
  members: MemberDirectory
  viewerId: UserId
}) {
  const { message, members, viewerId } = props

  return (
    <p className="message__text" data-testid="message-text">
      {splitMentions(message.text).map((part, index) => {
        const member = part.kind === 'mention' ? members.byUsername(part.name) : undefined
        if (!member) return part.text
        const me = member.id === viewerId
        return (
          <span
            // Parts never move, so their position is a stable key.
            key={index}
            className={`mention${me ? ' mention--me' : ''}`}
            data-testid="mention"
            title={member.displayName}
          >
            {part.text}
          </span>
        )
      })}
    </p>
  )
}

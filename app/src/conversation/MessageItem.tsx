import type { MouseEvent } from 'react'
import { memo, useState } from 'react'
import type { ChatMessage } from '../../../shared/chat-document.ts'
import { mentionedNames } from '../../../shared/chat-document.ts'
import type { ConversationId, MessageId, UserId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'
import { mentionedMemberIds } from '../messages/mention-text.ts'
import { removedPlaceholder } from '../messages/removed-placeholder.ts'
import type { ConversationSession, MessageView } from '../sync/conversation-session.ts'
import { formatFullTime, formatMessageTime } from '../ui/format-time.ts'
import { DeliveryState } from './DeliveryState.tsx'
import { MessageActions } from './MessageActions.tsx'
import { MessageEditor } from './MessageEditor.tsx'
import { MessageText } from './MessageText.tsx'
import { ReactionChips } from './ReactionChips.tsx'
import { ReadBy } from './ReadBy.tsx'
import { RemoveMessageDialog } from './RemoveMessageDialog.tsx'
import { ConfirmDialog } from './ConfirmDialog.tsx'
import { ReplyQuote } from './ReplyQuote.tsx'

/** Values that every message of one conversation shares, kept stable between renders. */
export interface MessageContext {
  session: ConversationSession
  conversationId: ConversationId
  members: MemberDirectory
  viewerId: UserId
  /** The viewer is an admin of this group. */
  canModerate: boolean
  /** The document accepts writes now. */
  writable: boolean
  /** Older history segments exist that are not shown. */
  earlierHistory: boolean
  online: boolean
  onReply: (messageId: MessageId) => void
  onJump: (messageId: MessageId) => void
  onActivate: (messageId: MessageId) => void
}

type Confirming = 'delete' | 'remove' | null

/** One message: author, time, text or placeholder, reactions, read receipts and its actions. */
export const MessageItem = memo(function MessageItem(props: {
  view: MessageView
  context: MessageContext
  reactions: ReadonlyMap<string, readonly UserId[]> | undefined
  readers: readonly UserId[] | undefined
  /** The message this one replies to, or undefined for no reply or one this copy lacks. */
  original: ChatMessage | undefined
  active: boolean
  highlighted: boolean
}) {
  const { view, context, reactions, readers, original, active, highlighted } = props
  const { message, state } = view
  const { session, members, viewerId, writable } = context
  const [editing, setEditing] = useState(false)
  const [pickerOpen, setPickerOpen] = useState(false)
  const [confirming, setConfirming] = useState<Confirming>(null)
  const [error, setError] = useState<string | null>(null)

  const own = message.authorId === viewerId
  const placeholder = removedPlaceholder(message, members.nameOf)
  const live = placeholder === undefined
  const mentionsMe = live && message.mentions.includes(viewerId)

  function react(emoji: string) {
    const result = session.toggleReaction(message.id, emoji)
    setError(result.ok ? null : 'This reaction could not be added.')
  }

  function saveEdit(text: string) {
    const mentions = mentionedMemberIds(mentionedNames(text), members)
    const result = session.edit(message.id, text, mentions)
    setEditing(false)
    setError(result.ok ? null : 'This message can no longer be edited.')
  }

  function confirmDelete() {
    const result = session.delete(message.id)
    setConfirming(null)
    setError(result.ok ? null : 'This message could not be deleted.')
  }

  // A tap on the message shows its actions on touch screens, where there is no hover.
  function handleClick(event: MouseEvent<HTMLLIElement>) {
    const target = event.target as HTMLElement
    if (target.closest('button, textarea, a, .backdrop')) return
    if (window.getSelection()?.toString()) return
    context.onActivate(message.id)
  }

  const classes = [
    'message',
    own && 'message--own',
    state === 'failed' && 'message--failed',
    !live && 'message--removed',
    mentionsMe && 'message--mentions-me',
    (active || pickerOpen) && 'message--active',
    highlighted && 'message--highlighted',
  ]

  return (
    <li
      className={classes.filter(Boolean).join(' ')}
      data-testid="message"
      data-message-id={message.id}
      data-segment={view.segment}
      data-state={state}
      onClick={handleClick}
    >
      <div className="message__column">
        {live && !editing && (
          <MessageActions
            available={{
              own,
              remove: !own && context.canModerate,
              writable,
              online: context.online,
            }}
            onReact={react}
            onReply={() => context.onReply(message.id)}
            onEdit={() => setEditing(true)}
            onDelete={() => setConfirming('delete')}
            onRemove={() => setConfirming('remove')}
            onPickerChange={setPickerOpen}
          />
        )}
        <div className="message__bubble">
          <div className="message__meta">
            <span className="message__author" data-testid="message-author">
              {members.nameOf(message.authorId)}
            </span>
            <time
              className="message__time"
              dateTime={new Date(message.createdAt).toISOString()}
              title={formatFullTime(message.createdAt)}
            >
              {formatMessageTime(message.createdAt)}
            </time>
            {live && message.editedAt !== undefined && (
              <span
                className="message__edited"
                data-testid="message-edited"
                title={`Edited ${formatFullTime(message.editedAt)}`}
              >
                edited
              </span>
            )}
          </div>
          {message.replyTo && live && (
            <ReplyQuote
              replyTo={message.replyTo}
              original={original}
              earlier={context.earlierHistory}
              members={members}
              onJump={context.onJump}
            />
          )}
          {!live && (
            <p className="message__placeholder" data-testid="message-deleted">
              {placeholder}
            </p>
          )}
          {live && editing && (
            <MessageEditor
              initialText={message.text}
              onSave={saveEdit}
              onCancel={() => setEditing(false)}
            />
          )}
          {live && !editing && (
            <MessageText message={message} members={members} viewerId={viewerId} />
          )}
          {own && live && <DeliveryState view={view} />}
        </div>
        {error && (
          <p className="message__error" role="alert">
            {error}
          </p>
        )}
        {live && reactions && (
          <ReactionChips
            reactions={reactions}
            members={members}
            viewerId={viewerId}
            disabled={!writable}
            onToggle={react}
          />
        )}
        {readers && <ReadBy readers={readers} members={members} />}
      </div>

      {confirming === 'delete' && (
        <ConfirmDialog
          title="Delete message?"
          body="The message is deleted for everyone in this conversation. A placeholder stays in its place."
          confirmLabel="Delete"
          confirmTestId="confirm-delete-message"
          onConfirm={confirmDelete}
          onCancel={() => setConfirming(null)}
        />
      )}
      {confirming === 'remove' && (
        <RemoveMessageDialog
          conversationId={context.conversationId}
          messageId={message.id}
          authorName={members.nameOf(message.authorId)}
          online={context.online}
          onDone={() => setConfirming(null)}
        />
      )}
    </li>
  )
})

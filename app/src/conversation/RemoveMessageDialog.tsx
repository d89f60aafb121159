import { useMutation } from '@tanstack/react-query'
import type { ConversationId, MessageId } from '../../../shared/ids.ts'
import { errorMessage } from '../api/error-message.ts'
import { removeMessage } from '../messages/moderation-api.ts'
import { Dialog } from '../ui/Dialog.tsx'

/**
 * Renders the confirmation a group admin gives before removing someone else's message, then
 * sends the removal request. The placeholder arrives through the document once the server
 * has written it.
 */
export function RemoveMessageDialog(props: {
  conversationId: ConversationId
  messageId: MessageId
  authorName: string
  online: boolean
  onDone: () => void
}) {
  const { conversationId, messageId, authorName, online, onDone } = props
  const removal = useMutation({
    mutationFn: () => removeMessage(conversationId, messageId),
    onSuccess: onDone,
  })

  return (
    <Dialog title="Remove message?" onClose={onDone}>
      <p>
        The message by {authorName} is removed for every member, and the group sees that you removed
        it.
      </p>
      {!online && <p className="notice">Removing a message needs a connection to the server.</p>}
      {removal.isError && (
        <p className="form-error" role="alert">
          {errorMessage(removal.error)}
        </p>
      )}
      <div className="dialog__actions">
        <button type="button" className="button" onClick={onDone}>
          Cancel
        </button>
        <button
          type="button"
          className="button button--danger"
          data-testid="confirm-remove-message"
          disabled={!online || removal.isPending}
          autoFocus
          onClick={() => removal.mutate()}
        >
          {removal.isPending ? 'Removing…' : 'Remove'}
        </button>
      </div>
    </Dialog>
  )
}

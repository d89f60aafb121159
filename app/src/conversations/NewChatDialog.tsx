import type { User } from '../../../shared/api.ts'
import { errorMessage } from '../api/error-message.ts'
import { useConnectionState } from '../sync/hooks.ts'
import { Dialog } from '../ui/Dialog.tsx'
import { useCreateConversation } from './use-create-conversation.ts'
import { UserSearch } from './UserSearch.tsx'

/** Searches users and starts (or reopens) a direct chat with the one picked. */
export function NewChatDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const offline = useConnectionState() === 'offline'
  const create = useCreateConversation(user.id, onClose)

  return (
    <Dialog title="New chat" onClose={onClose}>
      {offline && <p className="notice">Starting a chat needs a connection to the server.</p>}
      <UserSearch
        autoFocus
        disabled={offline || create.isPending}
        onPick={(other) => create.mutate({ kind: 'direct', memberIds: [other.id] })}
      />
      {create.isError && (
        <p className="form-error" role="alert">
          {errorMessage(create.error)}
        </p>
      )}
    </Dialog>
  )
}

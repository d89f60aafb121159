import type { FormEvent } from 'react'
import { useState } from 'react'
import type { User } from '../../../shared/api.ts'
import { TITLE_MAX_LENGTH } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'
import { errorMessage } from '../api/error-message.ts'
import { useConnectionState } from '../sync/hooks.ts'
import { Dialog } from '../ui/Dialog.tsx'
import { useCreateConversation } from './use-create-conversation.ts'
import { UserSearch } from './UserSearch.tsx'

/** Creates a group with a title and the members picked through the user search. */
export function NewGroupDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const offline = useConnectionState() === 'offline'
  const create = useCreateConversation(user.id, onClose)
  const [title, setTitle] = useState('')
  const [members, setMembers] = useState<User[]>([])
  const picked = new Set<UserId>(members.map((member) => member.id))
  const canCreate = !offline && !create.isPending && title.trim().length > 0

  function handleSubmit(event: FormEvent) {
    event.preventDefault()
    if (!canCreate) return
    create.mutate({
      kind: 'group',
      title: title.trim(),
      memberIds: members.map((member) => member.id),
    })
  }

  return (
    <Dialog title="New group" onClose={onClose}>
      <form className="stack" onSubmit={handleSubmit}>
        {offline && <p className="notice">Creating a group needs a connection to the server.</p>}
        <label className="field">
          <span>Title</span>
          <input
            className="input"
            data-testid="group-title"
            value={title}
            maxLength={TITLE_MAX_LENGTH}
            autoFocus
            onChange={(event) => setTitle(event.target.value)}
          />
        </label>

        <div className="field">
          <span>Members</span>
          {members.length > 0 && (
            <ul className="chips">
              {members.map((member) => (
                <li key={member.id} className="chip">
                  {member.displayName}
                  <button
                    type="button"
                    className="chip__remove"
                    aria-label={`Remove ${member.displayName}`}
                    onClick={() => setMembers(members.filter((other) => other.id !== member.id))}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )}
          <UserSearch
            exclude={picked}
            disabled={offline}
            onPick={(picked) => setMembers([...members, picked])}
          />
        </div>

        {create.isError && (
          <p className="form-error" role="alert">
            {errorMessage(create.error)}
          </p>
        )}
        <button
          type="submit"
          className="button button--primary"
          data-testid="create-group"
          disabled={!canCreate}
        >
          Create group
        </button>
      </form>
    </Dialog>
  )
}

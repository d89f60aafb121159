import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import type { Conversation, MemberRole, User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'
import { api } from '../api/endpoints.ts'
import { errorMessage } from '../api/error-message.ts'
import { queryKeys } from '../api/queries.ts'
import { UserSearch } from '../conversations/UserSearch.tsx'
import { navigate } from '../routing/router.ts'
import { useConnectionState } from '../sync/hooks.ts'
import { Avatar } from '../ui/Avatar.tsx'

type MemberChange =
  | { kind: 'delete' }
  | { kind: 'add'; userId: UserId }
  | { kind: 'remove'; userId: UserId }
  | { kind: 'role'; userId: UserId; role: MemberRole }

/** Renders the members of a group with their roles. Admins add and remove members, anyone can leave. */
export function GroupInfoPanel(props: {
  conversation: Conversation
  user: User
  onClose: () => void
}) {
  const { conversation, user, onClose } = props
  const queryClient = useQueryClient()
  const offline = useConnectionState() === 'offline'
  const isAdmin = conversation.members.some(
    (member) => member.user.id === user.id && member.role === 'admin',
  )
  const memberIds = new Set(conversation.members.map((member) => member.user.id))

  const change = useMutation({
    mutationFn: (request: MemberChange) => {
      switch (request.kind) {
        case 'delete':
          return api.deleteConversation(conversation.id)
        case 'add':
          return api.addMember(conversation.id, request.userId)
        case 'remove':
          return api.removeMember(conversation.id, request.userId)
        case 'role':
          return api.setMemberRole(conversation.id, request.userId, request.role)
      }
    },
    onSuccess: async (_result, request) => {
      const left = request.kind === 'remove' && request.userId === user.id
      if (left || request.kind === 'delete') navigate({ name: 'home' })
      await queryClient.invalidateQueries({ queryKey: queryKeys.conversations(user.id) })
    },
  })
  const disabled = offline || change.isPending
  const [confirmingDelete, setConfirmingDelete] = useState(false)

  return (
    <aside className="info" aria-label="Group info" data-testid="group-info-panel">
      <div className="info__header">
        <h3>Group info</h3>
        <button
          type="button"
          className="icon-button"
          aria-label="Close group info"
          onClick={onClose}
        >
          ×
        </button>
      </div>
      {offline && <p className="notice">Changing members needs a connection to the server.</p>}
      {change.isError && (
        <p className="form-error" role="alert">
          {errorMessage(change.error)}
        </p>
      )}

      <h4 className="info__section">{conversation.members.length} members</h4>
      <ul className="members">
        {conversation.members.map(({ user: member, role }) => (
          <li key={member.id} className="member" data-testid="member" data-user-id={member.id}>
            <Avatar name={member.displayName} />
            <span className="member__names">
              <span className="member__display">
                {member.displayName}
                {member.id === user.id && ' (you)'}
              </span>
              <span className="member__username">@{member.username}</span>
            </span>
            {role === 'admin' && <span className="badge">Admin</span>}
            {isAdmin && member.id !== user.id && (
              <span className="member__actions">
                <button
                  type="button"
                  className="button button--small"
                  disabled={disabled}
                  onClick={() =>
                    change.mutate({
                      kind: 'role',
                      userId: member.id,
                      role: role === 'admin' ? 'member' : 'admin',
                    })
                  }
                >
                  {role === 'admin' ? 'Make member' : 'Make admin'}
                </button>
                <button
                  type="button"
                  className="button button--small button--danger"
                  data-testid="remove-member"
                  disabled={disabled}
                  onClick={() => change.mutate({ kind: 'remove', userId: member.id })}
                >
                  Remove
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>

      {isAdmin && (
        <>
          <h4 className="info__section">Add members</h4>
          <UserSearch
            exclude={memberIds}
            disabled={disabled}
            testIds={{ field: 'add-member-search', result: 'add-member-result' }}
            onPick={(picked) => change.mutate({ kind: 'add', userId: picked.id })}
          />
        </>
      )}

      <div className="info__footer">
        <button
          type="button"
          className="button button--danger"
          data-testid="leave-group"
          disabled={disabled}
          onClick={() => change.mutate({ kind: 'remove', userId: user.id })}
        >
          Leave group
        </button>
        {isAdmin && !confirmingDelete && (
          <button
            type="button"
            className="button button--danger"
            data-testid="delete-group"
            disabled={disabled}
            onClick={() => setConfirmingDelete(true)}
          >
            Delete group
          </button>
        )}
        {isAdmin && confirmingDelete && (
          <div className="notice notice--warning">
            <p>Delete this group and its messages for every member?</p>
            <span className="info__confirm">
              <button
                type="button"
                className="button button--small button--danger"
                data-testid="confirm-delete-group"
                disabled={disabled}
                onClick={() => change.mutate({ kind: 'delete' })}
              >
                Delete for everyone
              </button>
              <button
                type="button"
                className="button button--small"
                onClick={() => setConfirmingDelete(false)}
              >
                Cancel
              </button>
            </span>
          </div>
        )}
      </div>
    </aside>
  )
}

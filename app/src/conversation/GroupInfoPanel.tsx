import { useState } from 'react'
import type { Conversation, MemberRole, User } from '../../../shared/api.ts'
import { errorMessage } from '../api/error-message.ts'
import { conversationTitle } from '../conversations/conversation-title.ts'
import { GroupTitleEditor } from '../conversations/GroupTitleEditor.tsx'
import type { GroupChange } from '../conversations/use-group-change.ts'
import { useGroupChange } from '../conversations/use-group-change.ts'
import { UserSearch } from '../conversations/UserSearch.tsx'
import { AvatarWithPresence } from '../presence/OnlineDot.tsx'
import { useConnectionState } from '../sync/hooks.ts'

/**
 * Renders a group's title and members with their roles. Admins rename the group, add, remove,
 * promote and demote members and delete the group; anyone can leave. Every change goes
 * through the server, so the controls are disabled offline.
 */
export function GroupInfoPanel(props: {
  conversation: Conversation
  user: User
  onClose: () => void
}) {
  const { conversation, user, onClose } = props
  const offline = useConnectionState() === 'offline'
  const change = useGroupChange(conversation.id, user.id)
  const isAdmin = conversation.members.some(
    (member) => member.user.id === user.id && member.role === 'admin',
  )
  const memberIds = new Set(conversation.members.map((member) => member.user.id))
  const disabled = offline || change.isPending
  const [confirmingDelete, setConfirmingDelete] = useState(false)
  const apply = (request: GroupChange) => change.mutate(request)

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
      {offline && (
        <p className="notice" data-testid="group-offline">
          You are offline. Renaming and changing members need a connection to the server.
        </p>
      )}
      {change.isError && (
        <p className="form-error" role="alert">
          {errorMessage(change.error)}
        </p>
      )}

      <GroupTitleEditor
        title={conversationTitle(conversation, user.id)}
        canRename={isAdmin}
        disabled={disabled}
        onRename={(title) => apply({ kind: 'rename', title })}
      />

      <h4 className="info__section">{conversation.members.length} members</h4>
      <ul className="members">
        {conversation.members.map(({ user: member, role }) => (
          <MemberRow
            key={member.id}
            member={member}
            role={role}
            isSelf={member.id === user.id}
            canManage={isAdmin && member.id !== user.id}
            disabled={disabled}
            onChange={apply}
          />
        ))}
      </ul>

      {isAdmin && (
        <>
          <h4 className="info__section">Add members</h4>
          <UserSearch
            exclude={memberIds}
            disabled={disabled}
            testIds={{ field: 'add-member-search', result: 'add-member-result' }}
            onPick={(picked) => apply({ kind: 'add', userId: picked.id })}
          />
        </>
      )}

      <div className="info__footer">
        <button
          type="button"
          className="button button--danger"
          data-testid="leave-group"
          disabled={disabled}
          onClick={() => apply({ kind: 'remove', userId: user.id })}
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
                onClick={() => apply({ kind: 'delete' })}
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

function MemberRow(props: {
  member: User
  role: MemberRole
  isSelf: boolean
  canManage: boolean
  disabled: boolean
  onChange: (change: GroupChange) => void
}) {
  const { member, role, isSelf, canManage, disabled, onChange } = props

  return (
    <li className="member" data-testid="member" data-user-id={member.id} data-role={role}>
      <AvatarWithPresence name={member.displayName} userId={member.id} />
      <span className="member__names">
        <span className="member__display">
          {member.displayName}
          {isSelf && ' (you)'}
        </span>
        <span className="member__username">@{member.username}</span>
      </span>
      {role === 'admin' && <span className="badge">Admin</span>}
      {canManage && (
        <span className="member__actions">
          {role === 'admin' ? (
            <button
              type="button"
              className="button button--small"
              data-testid="member-demote"
              disabled={disabled}
              onClick={() => onChange({ kind: 'role', userId: member.id, role: 'member' })}
            >
              Make member
            </button>
          ) : (
            <button
              type="button"
              className="button button--small"
              data-testid="member-promote"
              disabled={disabled}
              onClick={() => onChange({ kind: 'role', userId: member.id, role: 'admin' })}
            >
              Make admin
            </button>
          )}
          <button
            type="button"
            className="button button--small button--danger"
            data-testid="remove-member"
            disabled={disabled}
            onClick={() => onChange({ kind: 'remove', userId: member.id })}
          >
            Remove
          </button>
        </span>
      )}
    </li>
  )
}

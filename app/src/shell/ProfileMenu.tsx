import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { FormEvent } from 'react'
import { useEffect, useRef, useState } from 'react'
import type { User } from '../../../shared/api.ts'
import { DISPLAY_NAME_MAX_LENGTH } from '../../../shared/api.ts'
import { api } from '../api/endpoints.ts'
import { errorMessage } from '../api/error-message.ts'
import { queryKeys } from '../api/queries.ts'
import { storeUser } from '../auth/stored-user.ts'
import { useConnectionState } from '../sync/hooks.ts'
import { removeLocalData } from '../sync/local-data.ts'
import { Avatar } from '../ui/Avatar.tsx'
import { updateDisplayName } from './profile-api.ts'

/**
 * Renders the signed-in user's button in the top bar and its menu: the display name form
 * and logging out. A new name reaches every list and message through the refetched lists.
 */
export function ProfileMenu({ user }: { user: User }) {
  const [open, setOpen] = useState(false)
  const root = useRef<HTMLDivElement>(null)

  useEffect(() => {
    if (!open) return
    const handlePointer = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false)
    }
    const handleKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') setOpen(false)
    }
    document.addEventListener('pointerdown', handlePointer)
    document.addEventListener('keydown', handleKey)
    return () => {
      document.removeEventListener('pointerdown', handlePointer)
      document.removeEventListener('keydown', handleKey)
    }
  }, [open])

  return (
    <div className="profile" ref={root}>
      <button
        type="button"
        className="profile__button"
        data-testid="profile-menu"
        aria-haspopup="dialog"
        aria-expanded={open}
        title={`@${user.username}`}
        onClick={() => setOpen(!open)}
      >
        <Avatar name={user.displayName} />
        <span className="profile__name">{user.displayName}</span>
      </button>
      {open && (
        <div className="profile__panel" role="dialog" aria-label="Profile">
          <p className="profile__username">Signed in as @{user.username}</p>
          <DisplayNameForm user={user} />
          <LogoutButton user={user} />
        </div>
      )}
    </div>
  )
}

function DisplayNameForm({ user }: { user: User }) {
  const queryClient = useQueryClient()
  const offline = useConnectionState() === 'offline'
  const [name, setName] = useState(user.displayName)
  const trimmed = name.trim()
  const save = useMutation({
    mutationFn: (displayName: string) => updateDisplayName(displayName),
    onSuccess: async ({ user: updated }) => {
      storeUser(updated)
      queryClient.setQueryData(queryKeys.me, updated)
      // Member lists carry display names, so the lists are fetched again to show the new one.
      await queryClient.invalidateQueries({ queryKey: queryKeys.conversations(updated.id) })
      await queryClient.invalidateQueries({ queryKey: ['conversation'] })
    },
  })
  const canSave = !offline && !save.isPending && trimmed.length > 0 && trimmed !== user.displayName

  function handleSubmit(event: FormEvent) {
    event.preventDefault()
    if (canSave) save.mutate(trimmed)
  }

  return (
    <form className="stack stack--tight" onSubmit={handleSubmit}>
      <label className="field">
        <span>Display name</span>
        <input
          className="input"
          data-testid="display-name-input"
          value={name}
          maxLength={DISPLAY_NAME_MAX_LENGTH}
          autoComplete="nickname"
          onChange={(event) => setName(event.target.value)}
        />
      </label>
      {offline && <p className="notice">Changing your name needs a connection to the server.</p>}
      {save.isError && (
        <p className="form-error" role="alert">
          {errorMessage(save.error)}
        </p>
      )}
      {save.isSuccess && trimmed === user.displayName && (
        <p className="form-success" role="status">
          Saved.
        </p>
      )}
      <button
        type="submit"
        className="button button--primary"
        data-testid="display-name-save"
        disabled={!canSave}
      >
        Save name
      </button>
    </form>
  )
}

function LogoutButton({ user }: { user: User }) {
  const queryClient = useQueryClient()
  const logout = useMutation({
    mutationFn: api.logout,
    onSuccess: () => {
      storeUser(null)
      queryClient.setQueryData(queryKeys.me, null)
      // The next user of this device must not see this user's lists or documents. The open
      // documents' IndexedDB connections close on the deletion's `versionchange`.
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.me[0] })
      void removeLocalData(user.id)
    },
  })

  return (
    <div className="profile__logout">
      {logout.isError && (
        <p className="form-error" role="alert">
          Logging out failed: {errorMessage(logout.error)}
        </p>
      )}
      <button
        type="button"
        className="button button--wide"
        data-testid="logout"
        disabled={logout.isPending}
        onClick={() => logout.mutate()}
      >
        Log out
      </button>
    </div>
  )
}

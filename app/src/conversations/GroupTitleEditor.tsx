import type { FormEvent } from 'react'
import { useState } from 'react'
import { TITLE_MAX_LENGTH } from '../../../shared/api.ts'

/**
 * Shows a group's title and, for admins, a Rename button that turns it into a form. Saving
 * calls onRename; the form closes once the parent reports success by a new title.
 */
export function GroupTitleEditor(props: {
  title: string
  canRename: boolean
  disabled: boolean
  onRename: (title: string) => void
}) {
  const { title, canRename, disabled, onRename } = props
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState(title)
  const trimmed = draft.trim()
  const canSave = !disabled && trimmed.length > 0 && trimmed !== title
  // A rename from this form or another member closes the form on the new title.
  const [shownTitle, setShownTitle] = useState(title)
  if (shownTitle !== title) {
    setShownTitle(title)
    setEditing(false)
  }

  function handleSubmit(event: FormEvent) {
    event.preventDefault()
    if (canSave) onRename(trimmed)
  }

  if (!editing) {
    return (
      <div className="info__title">
        <h4 className="info__name" data-testid="group-title-text">
          {title}
        </h4>
        {canRename && (
          <button
            type="button"
            className="button button--small"
            data-testid="group-rename"
            disabled={disabled}
            onClick={() => {
              setDraft(title)
              setEditing(true)
            }}
          >
            Rename
          </button>
        )}
      </div>
    )
  }

  return (
    <form className="info__rename" onSubmit={handleSubmit}>
      <input
        className="input"
        data-testid="group-rename-input"
        aria-label="Group title"
        value={draft}
        maxLength={TITLE_MAX_LENGTH}
        autoFocus
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => event.key === 'Escape' && setEditing(false)}
      />
      <span className="info__confirm">
        <button
          type="submit"
          className="button button--small button--primary"
          data-testid="group-rename-save"
          disabled={!canSave}
        >
          Save
        </button>
        <button type="button" className="button button--small" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </span>
    </form>
  )
}

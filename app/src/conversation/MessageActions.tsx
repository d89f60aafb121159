import { useCallback, useRef, useState } from 'react'
import { EmojiPicker } from './EmojiPicker.tsx'

/** Actions that a message offers to the viewer. */
export interface AvailableActions {
  own: boolean
  /** The viewer is a group admin and the message is someone else's. */
  remove: boolean
  /** The document accepts writes now. */
  writable: boolean
  online: boolean
}

/**
 * Renders the toolbar of a message: react and reply, edit and delete for own messages, and
 * remove for group admins. It shows on hover, on tap and while a control in it has keyboard
 * focus.
 */
export function MessageActions(props: {
  available: AvailableActions
  onReact: (emoji: string) => void
  onReply: () => void
  onEdit: () => void
  onDelete: () => void
  onRemove: () => void
  onPickerChange: (open: boolean) => void
}) {
  const { available, onReact, onReply, onEdit, onDelete, onRemove, onPickerChange } = props
  const { own, remove, writable, online } = available
  const [picker, setPicker] = useState<'up' | 'down' | null>(null)
  const addButton = useRef<HTMLButtonElement>(null)

  const closePicker = useCallback(
    (returnFocus: boolean) => {
      setPicker(null)
      onPickerChange(false)
      if (returnFocus) addButton.current?.focus()
    },
    [onPickerChange],
  )

  function togglePicker() {
    if (picker) {
      closePicker(false)
      return
    }
    setPicker(pickerDirection(addButton.current))
    onPickerChange(true)
  }

  return (
    <div className="message-actions" role="toolbar" aria-label="Message actions">
      <button
        ref={addButton}
        type="button"
        className="message-actions__button"
        data-testid="reaction-add"
        aria-label="Add reaction"
        aria-expanded={picker !== null}
        title="Add reaction"
        disabled={!writable}
        onClick={togglePicker}
      >
        <ReactionIcon />
      </button>
      <button
        type="button"
        className="message-actions__button"
        data-testid="message-reply"
        title="Reply"
        disabled={!writable}
        onClick={onReply}
      >
        Reply
      </button>
      {own && (
        <button
          type="button"
          className="message-actions__button"
          data-testid="message-edit"
          title="Edit"
          disabled={!writable}
          onClick={onEdit}
        >
          Edit
        </button>
      )}
      {own && (
        <button
          type="button"
          className="message-actions__button message-actions__button--danger"
          data-testid="message-delete"
          title="Delete"
          disabled={!writable}
          onClick={onDelete}
        >
          Delete
        </button>
      )}
      {remove && (
        <button
          type="button"
          className="message-actions__button message-actions__button--danger"
          data-testid="message-remove"
          title={
            online
              ? 'Remove this message for everyone'
              : 'Removing a message needs a connection to the server'
          }
          disabled={!online}
          onClick={onRemove}
        >
          Remove
        </button>
      )}
      {picker && (
        <EmojiPicker
          direction={picker}
          opener={addButton}
          onPick={(emoji) => {
            closePicker(true)
            onReact(emoji)
          }}
          onClose={closePicker}
        />
      )}
    </div>
  )
}

// Height in pixels the picker needs above its button to open upward.
const PICKER_HEIGHT_PX = 200

/** Opens the picker upward when the scrolling list has room above the button. */
function pickerDirection(button: HTMLElement | null): 'up' | 'down' {
  const list = button?.closest('.messages')
  if (!button || !list) return 'down'
  const room = button.getBoundingClientRect().top - list.getBoundingClientRect().top
  return room > PICKER_HEIGHT_PX ? 'up' : 'down'
}

function ReactionIcon() {
  return (
    <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
      <circle cx="9" cy="10" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <circle cx="6.8" cy="8.6" r="0.9" fill="currentColor" />
      <circle cx="11.2" cy="8.6" r="0.9" fill="currentColor" />
      <path
        d="M6.3 11.6a3.2 3.2 0 0 0 5.4 0"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.4"
        strokeLinecap="round"
      />
      <path d="M16.5 2v5M14 4.5h5" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" />
    </svg>
  )
}

import { Dialog } from '../ui/Dialog.tsx'

/** Renders a confirmation of a destructive action. Escape and Cancel close it without acting. */
export function ConfirmDialog(props: {
  title: string
  body: string
  confirmLabel: string
  confirmTestId: string
  busy?: boolean
  onConfirm: () => void
  onCancel: () => void
}) {
  const { title, body, confirmLabel, confirmTestId, busy = false, onConfirm, onCancel } = props
  return (
    <Dialog title={title} onClose={onCancel}>
      <p>{body}</p>
      <div className="dialog__actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="button button--danger"
          data-testid={confirmTestId}
          disabled={busy}
          // The dialog opens from a message's toolbar, so focus moves here for keyboard users.
          autoFocus
          onClick={onConfirm}
        >
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  )
}

import type { KeyboardEvent } from 'react'
import { useEffect, useRef, useState } from 'react'
import { checkMessageText, MAX_MESSAGE_BYTES } from '../../../shared/chat-document.ts'

/** Renders an inline editor for an own message: Enter saves, Shift+Enter adds a line, Escape cancels. */
export function MessageEditor(props: {
  initialText: string
  onSave: (text: string) => void
  onCancel: () => void
}) {
  const { initialText, onSave, onCancel } = props
  const [text, setText] = useState(initialText)
  const field = useRef<HTMLTextAreaElement>(null)
  const check = checkMessageText(text)

  useEffect(() => {
    const element = field.current
    if (!element) return
    element.focus()
    element.setSelectionRange(element.value.length, element.value.length)
  }, [])

  function save() {
    if (text === initialText) onCancel()
    else if (check.ok) onSave(text)
  }

  function handleKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      onCancel()
      return
    }
    // While an input method composes text, Enter confirms the composition instead.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return
    event.preventDefault()
    save()
  }

  return (
    <div className="message-editor">
      <textarea
        ref={field}
        className="message-editor__input"
        data-testid="message-edit-input"
        aria-label="Edit message"
        rows={2}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={handleKeyDown}
      />
      {!check.ok && check.code === 'too_large' && (
        <span className="message-editor__error" role="alert">
          {check.bytes.toLocaleString()} / {MAX_MESSAGE_BYTES.toLocaleString()} bytes — too long to
          save
        </span>
      )}
      <span className="message-editor__actions">
        <span className="message-editor__hint">Enter to save, Escape to cancel</span>
        <button type="button" className="button button--small" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="button button--small button--primary"
          disabled={!check.ok}
          onClick={save}
        >
          Save
        </button>
      </span>
    </div>
  )
}

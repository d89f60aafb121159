import type { FormEvent, KeyboardEvent } from 'react'
import { useRef, useState } from 'react'
import { MAX_MESSAGE_BYTES } from '../../../shared/chat-document.ts'
import type { ConversationSession } from '../sync/conversation-session.ts'

// The byte counter shows from this share of MAX_MESSAGE_BYTES on.
const COUNTER_FROM = 0.8
const encoder = new TextEncoder()

/** Renders the message field, where Enter sends and Shift+Enter adds a line. */
export function Composer({
  session,
  disabled,
}: {
  session: ConversationSession
  disabled: boolean
}) {
  const [text, setText] = useState('')
  const field = useRef<HTMLTextAreaElement>(null)
  const bytes = encoder.encode(text).length
  const tooLarge = bytes > MAX_MESSAGE_BYTES
  const canSend = !disabled && !tooLarge && text.trim().length > 0

  function send() {
    if (!canSend) return
    const result = session.send(text)
    if (result.ok) setText('')
    field.current?.focus()
  }

  function handleKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // While an input method composes text, Enter confirms the composition instead.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return
    event.preventDefault()
    send()
  }

  function handleSubmit(event: FormEvent) {
    event.preventDefault()
    send()
  }

  return (
    <form className="composer" onSubmit={handleSubmit}>
      <div className="composer__field">
        <textarea
          ref={field}
          className="composer__input"
          data-testid="composer"
          aria-label="Message"
          placeholder={disabled ? 'You cannot send messages here' : 'Write a message'}
          rows={1}
          value={text}
          disabled={disabled}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={handleKeyDown}
        />
        {bytes >= MAX_MESSAGE_BYTES * COUNTER_FROM && (
          <span
            className={`composer__counter${tooLarge ? ' composer__counter--over' : ''}`}
            aria-live="polite"
          >
            {bytes.toLocaleString()} / {MAX_MESSAGE_BYTES.toLocaleString()} bytes
            {tooLarge && ' — too long to send'}
          </span>
        )}
      </div>
      <button
        type="submit"
        className="button button--primary composer__send"
        data-testid="send"
        disabled={!canSend}
      >
        Send
      </button>
    </form>
  )
}

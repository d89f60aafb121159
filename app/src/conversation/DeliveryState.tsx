import type { MessageView } from '../sync/conversation-session.ts'
import { describeCloseReason } from '../sync/close-reason-action.ts'

/** Renders the delivery state of an own message: sending, sent, or why it failed. */
export function DeliveryState({ view }: { view: MessageView }) {
  switch (view.state) {
    case 'pending':
      return (
        <span className="delivery delivery--pending" title="Not yet stored by the server">
          <ClockIcon /> Sending
        </span>
      )
    case 'sent':
      return (
        <span className="delivery delivery--sent" title="Stored by the server">
          <CheckIcon /> Sent
        </span>
      )
    case 'failed':
      return (
        <span className="delivery delivery--failed" role="alert">
          ! Not sent: {view.failure ? describeCloseReason(view.failure) : 'unknown reason'}
        </span>
      )
    case 'other':
      return null
  }
}

function ClockIcon() {
  return (
    <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
      <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path
        d="M8 4.5V8l2.5 1.5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
        strokeLinecap="round"
      />
    </svg>
  )
}

function CheckIcon() {
  return (
    <svg viewBox="0 0 16 16" width="12" height="12" aria-hidden="true">
      <path
        d="M3 8.5l3 3 7-7"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  )
}

import { useState } from 'react'
import type { UserId } from '../../../shared/ids.ts'
import type { NotificationAccess } from './notification-access.ts'
import {
  dismissPrompt,
  isPromptDismissed,
  notificationAccess,
  requestNotificationAccess,
} from './notification-access.ts'

/**
 * Offers system notifications for mentions and direct messages. The browser's permission
 * request runs only from the button, never on load, and "Not now" hides the offer on this
 * device.
 */
export function NotificationPrompt({ userId }: { userId: UserId }) {
  const [access, setAccess] = useState<NotificationAccess>(notificationAccess)
  const [dismissed, setDismissed] = useState(() => isPromptDismissed(userId))
  const [asking, setAsking] = useState(false)

  if (access !== 'default' || dismissed) return null

  async function turnOn() {
    setAsking(true)
    try {
      setAccess(await requestNotificationAccess())
    } finally {
      setAsking(false)
    }
  }

  return (
    <div
      className="prompt"
      data-testid="notification-prompt"
      role="region"
      aria-label="Notifications"
    >
      <p className="prompt__text">
        Get a notification for mentions and direct messages while Parley is in the background?
      </p>
      <span className="prompt__actions">
        <button
          type="button"
          className="button button--small button--primary"
          data-testid="notification-enable"
          disabled={asking}
          onClick={() => void turnOn()}
        >
          Turn on
        </button>
        <button
          type="button"
          className="button button--small button--quiet"
          data-testid="notification-dismiss"
          onClick={() => {
            dismissPrompt(userId)
            setDismissed(true)
          }}
        >
          Not now
        </button>
      </span>
    </div>
  )
}

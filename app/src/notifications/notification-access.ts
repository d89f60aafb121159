import type { UserId } from '../../../shared/ids.ts'

/** Whether this browser may show system notifications: a permission, or no support at all. */
export type NotificationAccess = NotificationPermission | 'unsupported'

export function notificationAccess(): NotificationAccess {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}

/** Asks the browser for permission; call only from a click, as browsers require. */
export async function requestNotificationAccess(): Promise<NotificationAccess> {
  if (typeof Notification === 'undefined') return 'unsupported'
  return Notification.requestPermission()
}

function dismissedKey(userId: UserId): string {
  return `parley:${userId}:notification-prompt-dismissed`
}

/** Tells whether the user closed the notification prompt on this device. */
export function isPromptDismissed(userId: UserId): boolean {
  try {
    return localStorage.getItem(dismissedKey(userId)) === '1'
  } catch {
    return false
  }
}

export function dismissPrompt(userId: UserId): void {
  try {
    localStorage.setItem(dismissedKey(userId), '1')
  } catch {
    // Without localStorage the prompt shows again after a reload.
  }
}

/**
 * Shows a system notification that brings the tab forward and opens the conversation when
 * clicked. A notification with the same tag replaces the previous one of that conversation.
 */
export function showSystemNotification(
  notice: { conversationId: string; title: string; body: string },
  onOpen: () => void,
): void {
  if (notificationAccess() !== 'granted') return
  let notification: Notification
  try {
    notification = new Notification(notice.title, {
      body: notice.body,
      tag: `parley-${notice.conversationId}`,
      icon: '/icon.svg',
    })
  } catch {
    // NOTE: Chrome on Android allows notifications only through a service worker
    // registration and throws here, so phones get no system notification yet.
    return
  }
  notification.onclick = () => {
    window.focus()
    onOpen()
    notification.close()
  }
}

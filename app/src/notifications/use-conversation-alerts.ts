import { useMemo } from 'react'
import type { User } from '../../../shared/api.ts'
import { useConversations } from '../api/queries.ts'
import { totalUnread } from '../conversations/conversation-counts.ts'
import { useUserDocumentSnapshot } from '../user-doc/user-document-context.tsx'
import { useMessageNotifications } from './use-message-notifications.ts'
import { useUnreadTitle } from './use-unread-title.ts'

/**
 * Signals new messages while the tab is hidden: the unread total of conversations that are
 * not muted in the title, and system notifications for mentions and direct messages.
 */
export function useConversationAlerts(user: User): void {
  const conversations = useConversations(user.id)
  const { muted } = useUserDocumentSnapshot()
  const total = useMemo(
    () => totalUnread(conversations.data ?? [], muted),
    [conversations.data, muted],
  )

  useUnreadTitle(total)
  useMessageNotifications(user, conversations.data, conversations.dataUpdatedAt, muted)
}

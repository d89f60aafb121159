import { useQueryClient } from '@tanstack/react-query'
import { useEffect, useMemo, useRef } from 'react'
import type { User } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { queryKeys } from '../api/queries.ts'
import type { ListedConversation } from '../conversations/conversation-counts.ts'
import { navigate } from '../routing/router.ts'
import type { NewActivity } from './message-notifier.ts'
import { describeActivity, MessageNotifier } from './message-notifier.ts'
import { showSystemNotification } from './notification-access.ts'

/**
 * Wait in ms between noticing new activity and showing it. The server counts a message at
 * once but writes the list preview 250 ms later, so the list is fetched again in between
 * and the notification shows the newest message rather than the one before.
 */
const SETTLE_MS = 1_200

/**
 * Shows a system notification for each new mention and direct message in a conversation that
 * is not muted, while the tab is hidden and the user has granted permission. Pass the fetched
 * list with the time it was fetched; a list restored from storage (time 0) is not compared.
 */
export function useMessageNotifications(
  viewer: User,
  conversations: readonly ListedConversation[] | undefined,
  fetchedAt: number,
  muted: ReadonlySet<ConversationId>,
): void {
  const queryClient = useQueryClient()
  const notifier = useMemo(() => new MessageNotifier(viewer), [viewer])
  // Muting changes which notices show but is no reason to compare the list again.
  const mutedRef = useRef(muted)
  mutedRef.current = muted

  useEffect(() => {
    if (!conversations || fetchedAt === 0) return
    const found = notifier.update(conversations, mutedRef.current)
    if (found.length === 0 || document.visibilityState !== 'hidden') return

    const listKey = queryKeys.conversations(viewer.id)
    void queryClient.invalidateQueries({ queryKey: listKey })
    const show = (activity: NewActivity) => {
      const latest = queryClient.getQueryData<ListedConversation[]>(listKey)
      const conversation = latest?.find((item) => item.id === activity.conversationId)
      if (!conversation || mutedRef.current.has(conversation.id)) return
      if (document.visibilityState !== 'hidden') return
      showSystemNotification(describeActivity(activity, conversation, viewer), () =>
        navigate({ name: 'conversation', conversationId: conversation.id }),
      )
    }
    // Unmounting (logout) does not cancel the timer, but show() then finds no list.
    setTimeout(() => found.forEach(show), SETTLE_MS)
  }, [notifier, conversations, fetchedAt, queryClient, viewer])
}

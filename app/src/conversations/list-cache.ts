import type { QueryClient } from '@tanstack/react-query'
import type { Conversation } from '../../../shared/api.ts'
import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { queryKeys } from '../api/queries.ts'
import type { ListedConversation } from './conversation-counts.ts'
import { saveConversations } from './conversation-cache.ts'

/**
 * Removes a conversation from the cached list and its stored copy at once, so a deleted
 * conversation or one the user was removed from disappears before the next fetch.
 */
export function removeFromList(
  queryClient: QueryClient,
  userId: UserId,
  conversationId: ConversationId,
): void {
  updateList(queryClient, userId, (list) => list.filter((item) => item.id !== conversationId))
}

/**
 * Puts a conversation returned by a change (rename, members, roles) into the cached list,
 * keeping the counts that only the list endpoint returns.
 */
export function replaceInList(
  queryClient: QueryClient,
  userId: UserId,
  conversation: Conversation,
): void {
  updateList(queryClient, userId, (list) =>
    list.map((item) => (item.id === conversation.id ? { ...item, ...conversation } : item)),
  )
  queryClient.setQueryData(['conversation', conversation.id], conversation)
}

function updateList(
  queryClient: QueryClient,
  userId: UserId,
  change: (list: ListedConversation[]) => ListedConversation[],
): void {
  const key = queryKeys.conversations(userId)
  const current = queryClient.getQueryData<ListedConversation[]>(key)
  if (!current) return
  const next = change(current)
  queryClient.setQueryData(key, next)
  saveConversations(userId, next)
}

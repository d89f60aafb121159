import { useQuery } from '@tanstack/react-query'
import type { Conversation, User } from '../../../shared/api.ts'
import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { readStoredUser, storeUser } from '../auth/stored-user.ts'
import { loadConversations, saveConversations } from '../conversations/conversation-cache.ts'
import { api } from './endpoints.ts'
import { ApiError } from './http.ts'

/** Query keys of the REST data. */
export const queryKeys = {
  me: ['me'] as const,
  conversations: (userId: UserId) => ['conversations', userId] as const,
  userSearch: (query: string) => ['users', query] as const,
}

// Interval in milliseconds at which the list is refetched, so that conversations other
// members create appear without a reload.
const CONVERSATIONS_POLL_MS = 10_000

/**
 * Fetches the signed-in user; null when there is no session. When the server cannot be
 * reached, returns the user stored at the last sign-in so the app opens offline.
 */
async function fetchMe(): Promise<User | null> {
  try {
    const { user } = await api.me()
    storeUser(user)
    return user
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_authenticated') {
      storeUser(null)
      return null
    }
    const stored = readStoredUser()
    if (stored) return stored
    throw error
  }
}

/** Returns the signed-in user: undefined while loading, null when signed out. */
export function useMe() {
  return useQuery({ queryKey: queryKeys.me, queryFn: fetchMe, staleTime: 60_000 })
}

function byLastActivity(a: Conversation, b: Conversation): number {
  return b.lastActivityAt.localeCompare(a.lastActivityAt)
}

/** Returns the conversation list, newest activity first, starting from the stored copy. */
export function useConversations(userId: UserId) {
  return useQuery({
    queryKey: queryKeys.conversations(userId),
    queryFn: async () => {
      const { conversations } = await api.conversations()
      const sorted = [...conversations].sort(byLastActivity)
      saveConversations(userId, sorted)
      return sorted
    },
    initialData: () => loadConversations(userId),
    // The stored copy counts as stale, so it shows at once and is refetched right away.
    initialDataUpdatedAt: 0,
    refetchInterval: CONVERSATIONS_POLL_MS,
  })
}

/** Returns one conversation from the list, or fetches it when the list lacks it. */
export function useConversation(userId: UserId, id: ConversationId) {
  const list = useConversations(userId)
  const listed = list.data?.find((conversation) => conversation.id === id)
  const single = useQuery({
    queryKey: ['conversation', id],
    queryFn: async () => (await api.conversation(id)).conversation,
    enabled: list.isFetched && listed === undefined,
    retry: false,
  })
  return { conversation: listed ?? single.data, error: listed ? null : single.error }
}

/** Searches users by username or display name prefix; idle for an empty query. */
export function useUserSearch(query: string) {
  const trimmed = query.trim()
  return useQuery({
    queryKey: queryKeys.userSearch(trimmed),
    queryFn: async () => (await api.searchUsers(trimmed)).users,
    enabled: trimmed.length > 0,
    staleTime: 30_000,
  })
}

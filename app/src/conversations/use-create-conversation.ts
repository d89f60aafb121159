import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { CreateConversationBody } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'
import { api } from '../api/endpoints.ts'
import { queryKeys } from '../api/queries.ts'
import { navigate } from '../routing/router.ts'

/** Creates a conversation (or finds the existing direct chat) and opens it. */
export function useCreateConversation(userId: UserId, onCreated: () => void) {
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (body: CreateConversationBody) => api.createConversation(body),
    onSuccess: async ({ conversation }) => {
      onCreated()
      navigate({ name: 'conversation', conversationId: conversation.id })
      await queryClient.invalidateQueries({ queryKey: queryKeys.conversations(userId) })
    },
  })
}

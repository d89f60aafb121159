import { useMutation, useQueryClient } from '@tanstack/react-query'
import type { Conversation, MemberRole } from '../../../shared/api.ts'
import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { api } from '../api/endpoints.ts'
import { queryKeys } from '../api/queries.ts'
import { navigate } from '../routing/router.ts'
import { useUserDocument } from '../user-doc/user-document-context.tsx'
import { renameConversation } from './conversation-api.ts'
import { removeFromList, replaceInList } from './list-cache.ts'

/** A change to a group that the server applies and then reports to every member. */
export type GroupChange =
  | { kind: 'rename'; title: string }
  | { kind: 'delete' }
  | { kind: 'add'; userId: UserId }
  | { kind: 'remove'; userId: UserId }
  | { kind: 'role'; userId: UserId; role: MemberRole }

function send(
  id: ConversationId,
  change: GroupChange,
): Promise<{ conversation: Conversation } | undefined> {
  switch (change.kind) {
    case 'rename':
      return renameConversation(id, change.title)
    case 'delete':
      return api.deleteConversation(id)
    case 'add':
      return api.addMember(id, change.userId) as Promise<{ conversation: Conversation }>
    case 'remove':
      return api.removeMember(id, change.userId)
    case 'role':
      return api.setMemberRole(id, change.userId, change.role) as Promise<{
        conversation: Conversation
      }>
  }
}

/**
 * Sends group changes and updates the cached list with the result. Leaving or deleting also
 * drops the conversation's draft, mute and pin and returns to the list.
 */
export function useGroupChange(conversationId: ConversationId, viewerId: UserId) {
  const queryClient = useQueryClient()
  const userDocument = useUserDocument()

  return useMutation({
    mutationFn: (change: GroupChange) => send(conversationId, change),
    onSuccess: async (result, change) => {
      const left = change.kind === 'remove' && change.userId === viewerId
      if (left || change.kind === 'delete') {
        userDocument.forget(conversationId)
        removeFromList(queryClient, viewerId, conversationId)
        navigate({ name: 'home' })
      } else if (result?.conversation) {
        replaceInList(queryClient, viewerId, result.conversation)
      }
      await queryClient.invalidateQueries({ queryKey: queryKeys.conversations(viewerId) })
    },
  })
}

import type { Conversation } from '../../../shared/api.ts'
import type { ConversationId } from '../../../shared/ids.ts'
import { request } from '../api/http.ts'

/** Renames a group (admins only): PATCH /api/conversations/:id. */
export function renameConversation(
  id: ConversationId,
  title: string,
): Promise<{ conversation: Conversation }> {
  return request('PATCH', `/api/conversations/${id}`, { title })
}

import type { ConversationId, MessageId } from '../../../shared/ids.ts'
import { request } from '../api/http.ts'

/**
 * Asks the server to remove a message as a group admin. The server clears its text and
 * records who removed it, and the placeholder arrives through the conversation document.
 */
export function removeMessage(conversationId: ConversationId, messageId: MessageId) {
  return request<undefined>('DELETE', `/api/conversations/${conversationId}/messages/${messageId}`)
}

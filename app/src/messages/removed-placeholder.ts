import type { ChatMessage } from '../../../shared/chat-document.ts'
import type { UserId } from '../../../shared/ids.ts'

/** Returns the placeholder of a deleted or removed message, or undefined for a live one. */
export function removedPlaceholder(
  message: ChatMessage,
  nameOf: (id: UserId) => string,
): string | undefined {
  if (message.moderated) return `Removed by ${nameOf(message.moderated.by)}`
  if (message.deleted) return 'Message deleted'
  return undefined
}

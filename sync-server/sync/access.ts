import { parseDocumentName } from '../../shared/document-names.ts'
import type { CloseReason } from '../../shared/errors.ts'
import type { ConversationStore } from '../persistence/conversations.ts'

/** Decision on opening a document. */
export type AccessDecision = { ok: true } | { ok: false; reason: CloseReason }

/**
 * Decides whether a user may open a document: conversation documents and their segments
 * are open to members, a user document to its owner only, and any other name to nobody.
 */
export async function checkDocumentAccess(
  conversations: ConversationStore,
  documentName: string,
  userId: string,
): Promise<AccessDecision> {
  const target = parseDocumentName(documentName)
  if (!target) return { ok: false, reason: 'forbidden' }
  switch (target.kind) {
    case 'user':
      return target.userId === userId ? { ok: true } : { ok: false, reason: 'forbidden' }
    case 'conversation':
    case 'segment': {
      const membership = await conversations.membership(target.conversationId, userId)
      switch (membership.status) {
        case 'member':
          return { ok: true }
        case 'deleted':
          return { ok: false, reason: 'conversation_deleted' }
        case 'not_member':
          return { ok: false, reason: 'forbidden' }
      }
    }
  }
}

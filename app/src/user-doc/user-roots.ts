import * as Y from 'yjs'
import type { ConversationId } from '../../../shared/ids.ts'

import {
  DRAFTS_ROOT,
  MAX_DRAFT_LENGTH,
  MUTED_ROOT,
  PINNED_ROOT,
} from '../../../shared/user-document.ts'

export { DRAFTS_ROOT, MAX_DRAFT_LENGTH, MUTED_ROOT, PINNED_ROOT }

/** Drafts, mutes and pins read out of a user document. */
export interface UserPreferences {
  drafts: ReadonlyMap<ConversationId, string>
  muted: ReadonlySet<ConversationId>
  pinned: ReadonlyMap<ConversationId, number>
}

export function draftsOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(DRAFTS_ROOT)
}

export function mutedOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(MUTED_ROOT)
}

export function pinnedOf(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(PINNED_ROOT)
}

/** Reads the three roots, skipping entries of the wrong type. */
export function readPreferences(doc: Y.Doc): UserPreferences {
  const drafts = new Map<ConversationId, string>()
  for (const [id, text] of draftsOf(doc).entries()) {
    if (typeof text === 'string' && text.length > 0) drafts.set(id as ConversationId, text)
  }
  const muted = new Set<ConversationId>()
  for (const [id, value] of mutedOf(doc).entries()) {
    if (value === true) muted.add(id as ConversationId)
  }
  const pinned = new Map<ConversationId, number>()
  for (const [id, pinnedAt] of pinnedOf(doc).entries()) {
    if (typeof pinnedAt === 'number') pinned.set(id as ConversationId, pinnedAt)
  }
  return { drafts, muted, pinned }
}

/** Stores a draft; an empty text removes the entry so that the map does not grow. */
export function writeDraft(doc: Y.Doc, conversationId: ConversationId, text: string): void {
  const drafts = draftsOf(doc)
  const draft = text.slice(0, MAX_DRAFT_LENGTH)
  if (draft.trim().length === 0) {
    if (drafts.has(conversationId)) drafts.delete(conversationId)
    return
  }
  if (drafts.get(conversationId) !== draft) drafts.set(conversationId, draft)
}

export function writeMuted(doc: Y.Doc, conversationId: ConversationId, muted: boolean): void {
  const map = mutedOf(doc)
  if (muted && map.get(conversationId) !== true) map.set(conversationId, true)
  if (!muted && map.has(conversationId)) map.delete(conversationId)
}

export function writePinned(
  doc: Y.Doc,
  conversationId: ConversationId,
  pinned: boolean,
  now = Date.now(),
): void {
  const map = pinnedOf(doc)
  if (pinned && typeof map.get(conversationId) !== 'number') map.set(conversationId, now)
  if (!pinned && map.has(conversationId)) map.delete(conversationId)
}

/** Removes every entry of a conversation, in one transaction. */
export function forgetConversation(doc: Y.Doc, conversationId: ConversationId): void {
  doc.transact(() => {
    for (const map of [draftsOf(doc), mutedOf(doc), pinnedOf(doc)]) {
      if (map.has(conversationId)) map.delete(conversationId)
    }
  })
}

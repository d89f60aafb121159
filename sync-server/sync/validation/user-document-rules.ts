import type * as Y from 'yjs'
import { USER_DOCUMENT_ROOTS, isUserDocumentValue } from '../../../shared/user-document.ts'
import type { Violation } from './authorship-rules.ts'
import { decodeNovelUpdate } from './novel-update.ts'
import { StructIndex } from './struct-index.ts'

/** Outcome of checking an update to a user's private document. */
export type UserDocumentResult =
  { ok: true; novel: Uint8Array | undefined } | { ok: false; violation: Violation }

/**
 * Checks an update to a user's private document, which only its owner opens: entries go
 * only into the drafts, muted and pinned maps, with values of their type. Deletions need no
 * check, because every item of the document is the owner's.
 */
export function validateUserDocumentUpdate(doc: Y.Doc, update: Uint8Array): UserDocumentResult {
  const novelUpdate = decodeNovelUpdate(doc, update)
  if ('rule' in novelUpdate) return { ok: false, violation: novelUpdate }
  const { decoded } = novelUpdate

  const index = new StructIndex(doc, decoded.structs)
  for (const item of index.updateItems()) {
    const info = index.describeNew(item)
    if (!info) return { ok: false, violation: { rule: 'parent_unknown' } }
    if (info.parent.kind !== 'root') return { ok: false, violation: { rule: 'nested_type' } }
    const root = info.parent.name
    if (!(USER_DOCUMENT_ROOTS as readonly string[]).includes(root) || info.parent.key === null) {
      return { ok: false, violation: { rule: 'root_not_writable', detail: root } }
    }
    if (info.deleted) continue
    if (info.values?.length !== 1 || !isUserDocumentValue(root, info.values[0])) {
      return { ok: false, violation: { rule: 'user_document_value', detail: root } }
    }
  }
  const changes = decoded.structs.length > 0 || decoded.ds.clients.size > 0
  return { ok: true, novel: changes ? novelUpdate.bytes : undefined }
}

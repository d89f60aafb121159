import { CLIENT_ROOTS, SEGMENT_CLIENT_ROOTS } from '../../../shared/chat-document.ts'
import { parseDocumentName } from '../../../shared/document-names.ts'
import type { Violation } from './authorship-rules.ts'

/** Rules of a conversation document for client updates, besides the authorship rules. */
export interface DocumentRules {
  /** Roots that clients may write. Every other root is the server's or outside the schema. */
  clientRoots: readonly string[]
  /** Number of the history segment that the document contains, 0 for the live document. */
  segment: number
  /**
   * Returns the number of the conversation's open segment. With `fresh`, it is read past any
   * cache, because the number may have grown since it was cached.
   */
  openSegment(fresh: boolean): Promise<number>
}

/**
 * Returns the rules of a conversation document by its name: the live document takes
 * messages, reactions and read markers, a history segment only messages and reactions.
 */
export function documentRules(
  documentName: string,
  openSegment: (fresh: boolean) => Promise<number>,
): DocumentRules {
  const target = parseDocumentName(documentName)
  if (target?.kind === 'segment') {
    return { clientRoots: SEGMENT_CLIENT_ROOTS, segment: target.segment, openSegment }
  }
  return { clientRoots: CLIENT_ROOTS, segment: 0, openSegment }
}

/**
 * Rules for a caller that does not split history, such as a benchmark of the validator: the
 * document counts as the open segment, so new messages pass as they did before segments.
 */
export function unsegmentedRules(documentName: string): DocumentRules {
  const rules = documentRules(documentName, openFirstSegment)
  if (rules.segment === 0) return rules
  const open = Promise.resolve(rules.segment)
  return { ...rules, openSegment: () => open }
}

function openFirstSegment(): Promise<number> {
  return Promise.resolve(0)
}

/**
 * Checks an update that changes a document against the open segment. Only the open segment
 * takes new messages. A segment after the open one contains no message, so it takes nothing.
 */
export async function checkSegment(
  rules: DocumentRules,
  createsMessages: boolean,
): Promise<Violation | undefined> {
  if (rules.segment === 0 && !createsMessages) return undefined
  let open = await rules.openSegment(false)
  // The open segment only moves forward, so a cached number below this document's may be
  // stale and is read again, while one above it is final.
  if (rules.segment > open) open = await rules.openSegment(true)
  const detail = `segment ${rules.segment}, open ${open}`
  if (rules.segment > open) return { rule: 'segment_not_open', detail }
  if (createsMessages && rules.segment < open) return { rule: 'segment_closed', detail }
  return undefined
}

/** Map root of composer drafts: conversation id → draft text. */
export const DRAFTS_ROOT = 'drafts'
/** Map root of muted conversations: conversation id → true. */
export const MUTED_ROOT = 'muted'
/** Map root of pinned conversations: conversation id → milliseconds since the epoch when pinned. */
export const PINNED_ROOT = 'pinned'

/** Roots of a user's private document; the server rejects writes to any other. */
export const USER_DOCUMENT_ROOTS = [DRAFTS_ROOT, MUTED_ROOT, PINNED_ROOT] as const

/**
 * Maximum draft length kept, in UTF-16 code units. Each takes at most three bytes of UTF-8,
 * so one draft update stays far below the server's 1 MiB update limit.
 */
export const MAX_DRAFT_LENGTH = 64 * 1024

/** Checks a value written under a root of the user document; false for anything else. */
export function isUserDocumentValue(root: string, value: unknown): boolean {
  switch (root) {
    case DRAFTS_ROOT:
      return typeof value === 'string' && value.length <= MAX_DRAFT_LENGTH
    case MUTED_ROOT:
      return value === true
    case PINNED_ROOT:
      return typeof value === 'number' && Number.isFinite(value)
    default:
      return false
  }
}

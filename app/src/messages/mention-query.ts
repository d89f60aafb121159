import type { User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'

/** An `@` mention being typed: where it starts and the name typed so far. */
export interface MentionQuery {
  /** Index of the `@` in the text. */
  start: number
  /** Index just after the typed name, where the caret is. */
  end: number
  query: string
}

// Members listed by the autocomplete at most.
const MAX_SUGGESTIONS = 8

/**
 * Finds the mention that ends at the caret: an `@` at the start of the text or after a
 * character that cannot be part of a name, followed only by name characters up to the caret.
 */
export function findMentionQuery(text: string, caret: number): MentionQuery | undefined {
  const before = text.slice(0, caret)
  const match = /(^|[^\w.@-])@([a-z0-9_.-]{0,32})$/i.exec(before)
  if (!match) return undefined
  const query = match[2] ?? ''
  return { start: caret - query.length - 1, end: caret, query }
}

/** Replaces the typed mention with `@username ` and returns the new text and caret. */
export function insertMention(
  text: string,
  mention: MentionQuery,
  username: string,
): { text: string; caret: number } {
  const inserted = `@${username} `
  const after = text.slice(mention.end).replace(/^ /, '')
  return {
    text: text.slice(0, mention.start) + inserted + after,
    caret: mention.start + inserted.length,
  }
}

/** Lists the members whose username or display name starts with the query, the viewer left out. */
export function suggestMembers(members: readonly User[], query: string, viewerId: UserId): User[] {
  const prefix = query.toLowerCase()
  const matches = members.filter((user) => {
    if (user.id === viewerId) return false
    if (user.username.toLowerCase().startsWith(prefix)) return true
    return user.displayName
      .toLowerCase()
      .split(/\s+/)
      .some((word) => word.startsWith(prefix))
  })
  return matches.slice(0, MAX_SUGGESTIONS)
}

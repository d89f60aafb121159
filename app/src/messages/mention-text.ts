import type { UserId } from '../../../shared/ids.ts'
import type { MemberDirectory } from './member-directory.ts'

/** A piece of message text: plain text, or an `@name` mention. */
export type TextPart =
  { kind: 'text'; text: string } | { kind: 'mention'; text: string; name: string }

// The same rule as mentionedNames in shared/chat-document.ts: `@` at the start or after a
// character that cannot be part of a name or an address, then 3 to 32 name characters, with
// trailing dots left out (they end the sentence).
const MENTION = /(^|[^\w.@-])@([a-z0-9_.-]{3,32})/gi

/** Splits a message text into plain parts and mentions, in order. */
export function splitMentions(text: string): TextPart[] {
  const parts: TextPart[] = []
  let position = 0
  for (const match of text.matchAll(MENTION)) {
    const rawName = match[2] ?? ''
    const name = rawName.replace(/\.+$/, '')
    if (name.length < 3) continue

    const start = match.index + (match[1]?.length ?? 0)
    const end = start + 1 + name.length
    if (start > position) parts.push({ kind: 'text', text: text.slice(position, start) })
    parts.push({ kind: 'mention', text: text.slice(start, end), name: name.toLowerCase() })
    position = end
  }
  if (position < text.length) parts.push({ kind: 'text', text: text.slice(position) })
  return parts
}

/** Returns the ids of the members whose usernames a text mentions. */
export function mentionedMemberIds(names: readonly string[], members: MemberDirectory): UserId[] {
  const ids: UserId[] = []
  for (const name of names) {
    const member = members.byUsername(name)
    if (member) ids.push(member.id)
  }
  return ids
}

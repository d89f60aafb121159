import type { PresenceUser } from './awareness-state.ts'

/** Returns the sentence for the users typing, or null when no user is typing. */
export function typingSentence(users: readonly PresenceUser[]): string | null {
  const [first, second] = users
  if (!first) return null
  if (!second) return `${first.name} is typing…`
  if (users.length === 2) return `${first.name} and ${second.name} are typing…`
  const others = users.length - 2
  const rest = others === 1 ? '1 other' : `${others} others`
  return `${first.name}, ${second.name} and ${rest} are typing…`
}

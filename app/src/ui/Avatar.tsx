import { initials } from '../conversations/conversation-title.ts'

// Hues of the avatar backgrounds, picked by a hash of the name so each name keeps its color.
const HUES = [222, 262, 190, 150, 28, 340, 200, 95]

function hueOf(name: string): number {
  let hash = 0
  for (const character of name) hash = (hash * 31 + (character.codePointAt(0) ?? 0)) >>> 0
  return HUES[hash % HUES.length] ?? HUES[0] ?? 222
}

/** Renders a round avatar with the initials of a name. */
export function Avatar({ name, group = false }: { name: string; group?: boolean }) {
  return (
    <span
      className={`avatar${group ? ' avatar--group' : ''}`}
      style={{ backgroundColor: `hsl(${hueOf(name)} 55% 48%)` }}
      aria-hidden="true"
    >
      {initials(name)}
    </span>
  )
}

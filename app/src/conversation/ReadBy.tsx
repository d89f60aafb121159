import type { UserId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'

// Readers named in full before the rest are counted.
const NAMED_READERS = 3

/** Renders who has read up to an own message, as "Seen by Ana, Ben and 2 others". */
export function ReadBy(props: { readers: readonly UserId[]; members: MemberDirectory }) {
  const { readers, members } = props
  if (readers.length === 0) return null

  const names = readers.map((id) => members.nameOf(id))
  const shown = names.slice(0, NAMED_READERS).join(', ')
  const rest = names.length - NAMED_READERS
  const others = rest === 1 ? ' and 1 other' : ` and ${rest} others`

  return (
    <p className="read-by" data-testid="read-by" title={`Seen by ${names.join(', ')}`}>
      Seen by {shown}
      {rest > 0 && others}
    </p>
  )
}

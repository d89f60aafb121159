import type { UserId } from '../../../shared/ids.ts'
import type { MemberDirectory } from '../messages/member-directory.ts'

/** Renders one chip per emoji with its count. Pressing a chip toggles the own reaction. */
export function ReactionChips(props: {
  reactions: ReadonlyMap<string, readonly UserId[]>
  members: MemberDirectory
  viewerId: UserId
  disabled: boolean
  onToggle: (emoji: string) => void
}) {
  const { reactions, members, viewerId, disabled, onToggle } = props
  if (reactions.size === 0) return null

  return (
    <div className="reactions">
      {[...reactions].map(([emoji, userIds]) => {
        const mine = userIds.includes(viewerId)
        const names = userIds.map((id) => members.nameOf(id))
        return (
          <button
            key={emoji}
            type="button"
            className={`reaction${mine ? ' reaction--mine' : ''}`}
            data-testid="reaction-chip"
            data-emoji={emoji}
            data-count={userIds.length}
            aria-pressed={mine}
            aria-label={`${emoji} ${userIds.length}: ${names.join(', ')}`}
            title={names.join(', ')}
            disabled={disabled}
            onClick={() => onToggle(emoji)}
          >
            <span className="reaction__emoji">{emoji}</span>
            <span className="reaction__count">{userIds.length}</span>
          </button>
        )
      })}
    </div>
  )
}

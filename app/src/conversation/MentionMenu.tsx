import type { User } from '../../../shared/api.ts'
import { Avatar } from '../ui/Avatar.tsx'

/** Renders the members that match a typed `@` mention. The composer moves the selection. */
export function MentionMenu(props: {
  id: string
  options: readonly User[]
  selected: number
  onPick: (user: User) => void
}) {
  const { id, options, selected, onPick } = props
  return (
    <ul className="mention-menu" id={id} role="listbox" aria-label="Mention a member">
      {options.map((user, index) => (
        <li
          key={user.id}
          id={`${id}-${index}`}
          className={`mention-menu__option${index === selected ? ' mention-menu__option--selected' : ''}`}
          role="option"
          aria-selected={index === selected}
          data-testid="mention-option"
          data-username={user.username}
          // Keeping focus in the text field lets typing go on after a pick.
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => onPick(user)}
        >
          <Avatar name={user.displayName} />
          <span className="mention-menu__names">
            <span className="mention-menu__display">{user.displayName}</span>
            <span className="mention-menu__username">@{user.username}</span>
          </span>
        </li>
      ))}
    </ul>
  )
}

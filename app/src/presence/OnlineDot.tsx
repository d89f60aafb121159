import type { UserId } from '../../../shared/ids.ts'
import { Avatar } from '../ui/Avatar.tsx'
import { useIsOnline } from './presence-context.tsx'

/** Renders a green dot, for placing on an avatar, while the user is online; nothing otherwise. */
export function OnlineDot({ userId }: { userId: UserId }) {
  const online = useIsOnline(userId)
  if (!online) return null
  return (
    <span
      className="online-dot"
      data-testid="online-dot"
      title="Online"
      role="img"
      aria-label="Online"
    />
  )
}

/** Renders an avatar with the online dot of a user. */
export function AvatarWithPresence(props: { name: string; userId: UserId }) {
  return (
    <span className="avatar-presence" data-user-id={props.userId}>
      <Avatar name={props.name} />
      <OnlineDot userId={props.userId} />
    </span>
  )
}

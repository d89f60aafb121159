import type { SystemEvent } from '../../../shared/chat-document.ts'
import type { UserId } from '../../../shared/ids.ts'

// Stands for a user whose name this device never saw, such as one who joined and left while
// the member list was not refreshed.
const UNKNOWN_USER = 'a former member'

/**
 * Returns the sentence shown in the timeline for a system event. `nameOf` returns undefined
 * for a user whose name is unknown.
 */
export function describeSystemEvent(
  event: SystemEvent,
  nameOf: (id: UserId) => string | undefined,
): string {
  // Every sentence starts with the actor. A display name stays as its owner wrote it, so
  // only the stand-in for an unknown user is capitalized.
  const actor = nameOf(event.actorId) ?? capitalize(UNKNOWN_USER)
  const target = (event.targetId && nameOf(event.targetId)) ?? UNKNOWN_USER
  return sentence(event, actor, target)
}

function sentence(event: SystemEvent, actor: string, target: string): string {
  switch (event.type) {
    case 'created':
      return event.title
        ? `${actor} created the group “${event.title}”`
        : `${actor} created the group`
    case 'member_added':
      return `${actor} added ${target}`
    case 'member_removed':
      return `${actor} removed ${target}`
    case 'member_left':
      return `${actor} left`
    case 'renamed':
      return `${actor} renamed the group to “${event.title ?? ''}”`
    case 'role_changed':
      return event.role === 'admin'
        ? `${actor} made ${target} an admin`
        : `${actor} made ${target} a member`
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

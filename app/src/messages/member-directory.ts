import type { Conversation, User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'
import { rememberedName } from './remembered-names.ts'

/** Shown for a user who is not a member and whose name this device never saw. */
export const UNKNOWN_MEMBER_NAME = 'Former member'

/** The members of a conversation, looked up by id and by username. */
export interface MemberDirectory {
  readonly members: readonly User[]
  /** Display name from the current member list, so that renames show everywhere. */
  nameOf: (userId: UserId) => string
  /** Like nameOf, but undefined for a user whose name this device never saw. */
  knownNameOf: (userId: UserId) => string | undefined
  byUsername: (username: string) => User | undefined
  isAdmin: (userId: UserId) => boolean
}

/**
 * Builds the directory of a conversation's members. Names of users who have left come from
 * the names this device saw earlier (see rememberNames), so that "Ben left" keeps its name.
 */
export function memberDirectory(
  conversation: Conversation | undefined,
  viewerId: UserId,
): MemberDirectory {
  const members = conversation?.members ?? []
  const byId = new Map(members.map(({ user }) => [user.id, user]))
  const byUsername = new Map(members.map(({ user }) => [user.username.toLowerCase(), user]))
  const admins = new Set(
    members.filter((member) => member.role === 'admin').map(({ user }) => user.id),
  )

  const knownNameOf = (userId: UserId) =>
    byId.get(userId)?.displayName ?? rememberedName(viewerId, userId)

  return {
    members: members.map(({ user }) => user),
    nameOf: (userId) => knownNameOf(userId) ?? UNKNOWN_MEMBER_NAME,
    knownNameOf,
    byUsername: (username) => byUsername.get(username.toLowerCase()),
    isAdmin: (userId) => admins.has(userId),
  }
}

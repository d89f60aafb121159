import type { HocuspocusProvider } from '@hocuspocus/provider'
import type { UserId } from '../../../shared/ids.ts'

/** The awareness instance of a Hocuspocus provider (y-protocols' Awareness). */
export type Awareness = NonNullable<HocuspocusProvider['awareness']>

/** A user as published in awareness states. */
export interface PresenceUser {
  id: UserId
  name: string
}

/** Awareness state that each client publishes on an open conversation. */
export interface PresenceState {
  user: PresenceUser
  typing: boolean
}

/** Longest name accepted from another client's state, in UTF-16 code units. */
const MAX_NAME_LENGTH = 64

/**
 * Reads another client's awareness state. States come from any client of the conversation,
 * so a state without a user is skipped and a missing `typing` counts as not typing.
 */
export function parsePresenceState(state: unknown): PresenceState | undefined {
  if (typeof state !== 'object' || state === null) return undefined
  const { user, typing } = state as { user?: unknown; typing?: unknown }
  if (typeof user !== 'object' || user === null) return undefined
  const { id, name } = user as { id?: unknown; name?: unknown }
  if (typeof id !== 'string' || typeof name !== 'string') return undefined
  return {
    user: { id: id as UserId, name: name.slice(0, MAX_NAME_LENGTH) },
    typing: typing === true,
  }
}

/** Lists the valid presence states of every client, the local one included. */
export function presenceStates(awareness: Awareness): PresenceState[] {
  const states: PresenceState[] = []
  for (const state of awareness.getStates().values()) {
    const parsed = parsePresenceState(state)
    if (parsed) states.push(parsed)
  }
  return states
}

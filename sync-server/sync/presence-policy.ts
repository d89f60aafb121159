import type { Connection } from '@hocuspocus/server'
import { DISPLAY_NAME_MAX_LENGTH } from '../../shared/api.ts'

/** Minimum time between two awareness updates applied from one connection, in ms. */
export const AWARENESS_INTERVAL_MS = 250
/**
 * States per document that may have `typing: true`. A typist beyond this is broadcast as
 * not typing, so a crowd typing at once costs every member a bounded update.
 */
export const MAX_TYPING_STATES = 50
/**
 * Awareness states per document, one per open provider. A group has at most 1,000
 * members, so this leaves each about two devices at once. States of further clients are
 * dropped.
 */
export const MAX_AWARENESS_STATES = 2000

/** The awareness state that Parley clients publish, and the only fields the server keeps. */
export interface PresenceState {
  user: { id: string; name: string }
  typing: boolean
}

type States = Map<number, Record<string, unknown>>

/** An inbound awareness update, as beforeHandleAwareness receives it. */
export interface AwarenessInput {
  /** Decoded states by Yjs client id, rewritten in place. */
  states: States
  /** Current states of the document, other instances' clients included. */
  current: Map<number, Record<string, unknown>>
  /** The sending connection, or undefined for an update relayed by another instance. */
  connection: Connection | undefined
  /** User of the sending connection. */
  userId: string | undefined
}

/**
 * Decides what of an awareness update is applied and broadcast: a client publishes presence
 * only as its own user, at most once per AWARENESS_INTERVAL_MS, and a document carries a
 * bounded number of states and typists.
 */
export class PresencePolicy {
  private readonly lastApplied = new WeakMap<Connection, number>()

  constructor(private readonly now: () => number = Date.now) {}

  /** Rewrites the states of an inbound update in place. An empty map applies nothing. */
  apply(input: AwarenessInput): void {
    keepOwnPresence(input)
    if (input.connection && !this.withinRate(input)) {
      input.states.clear()
      return
    }
    capStates(input)
  }

  /**
   * Returns whether the update may be applied now, and starts a new interval when it is.
   * Inside the interval only an update that stops typing passes, so that an indicator is
   * never left on by the rate limit.
   */
  private withinRate({ states, current, connection }: AwarenessInput): boolean {
    if (!connection || states.size === 0) return true
    const now = this.now()
    const last = this.lastApplied.get(connection)
    if (last !== undefined && now - last < AWARENESS_INTERVAL_MS && !stopsTyping(states, current)) {
      return false
    }
    this.lastApplied.set(connection, now)
    return true
  }
}

/**
 * Replaces each state by its Parley fields and drops the states that name no user. From a
 * client connection, states that name another user than the connection's are dropped too,
 * and so are states for a client id whose current state names another user, which would
 * take over that user's presence. Relayed updates were checked by the instance that
 * received them.
 */
function keepOwnPresence({ states, current, connection, userId }: AwarenessInput): void {
  // NOTE: a client id with no state yet can still be claimed by another member. That state
  // then keeps its owner's out. Checking the document's client id bindings would close this.
  for (const [clientId, state] of states) {
    const presence = toPresence(state)
    const holder = toPresence(current.get(clientId) ?? {})?.user.id
    const allowed =
      presence &&
      (!connection || (presence.user.id === userId && (holder === undefined || holder === userId)))
    if (allowed) states.set(clientId, presence as unknown as Record<string, unknown>)
    else states.delete(clientId)
  }
}

/** Drops states of new clients beyond MAX_AWARENESS_STATES and clears typing beyond MAX_TYPING_STATES. */
function capStates({ states, current }: AwarenessInput): void {
  let stateCount = current.size
  let typists = 0
  for (const [clientId, state] of current) {
    if (!states.has(clientId) && state.typing === true) typists++
  }
  for (const [clientId, state] of states) {
    if (!current.has(clientId)) {
      if (stateCount >= MAX_AWARENESS_STATES) {
        states.delete(clientId)
        continue
      }
      stateCount++
    }
    if (state.typing !== true) continue
    if (typists >= MAX_TYPING_STATES) state.typing = false
    else typists++
  }
}

/** Returns whether every state of the update is not typing and one of them was typing. */
function stopsTyping(states: States, current: States): boolean {
  let wasTyping = false
  for (const [clientId, state] of states) {
    if (state.typing === true) return false
    if (current.get(clientId)?.typing === true) wasTyping = true
  }
  return wasTyping
}

/** Reads a Parley presence state. Returns undefined when it names no user. */
function toPresence(state: Record<string, unknown>): PresenceState | undefined {
  const user = state.user
  if (typeof user !== 'object' || user === null) return undefined
  const { id, name } = user as Record<string, unknown>
  if (typeof id !== 'string') return undefined
  return {
    user: { id, name: typeof name === 'string' ? name.slice(0, DISPLAY_NAME_MAX_LENGTH) : '' },
    typing: state.typing === true,
  }
}

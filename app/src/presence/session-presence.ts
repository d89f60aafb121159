import type { UserId } from '../../../shared/ids.ts'
import { Listeners } from '../sync/listeners.ts'
import type { Awareness, PresenceUser } from './awareness-state.ts'
import { presenceStates } from './awareness-state.ts'

/** The part of a conversation session that presence reads: its awareness and its changes. */
export interface AwarenessSource {
  readonly documentName: string
  /** Awareness of the current provider; null while the document is not syncing. */
  readonly awareness: Awareness | null
  subscribe(listener: () => void): () => void
}

/** Presence in one conversation, as received on this device. */
export interface SessionPresenceSnapshot {
  /** Users with at least one connected client in the conversation, this user included. */
  online: ReadonlySet<UserId>
  /** Other users typing now, in the order their clients joined. */
  typing: readonly PresenceUser[]
}

const EMPTY: SessionPresenceSnapshot = { online: new Set(), typing: [] }

/**
 * Shortest time between two awareness updates this client sends, in ms. The server applies
 * at most one update per connection every 250 ms and drops the rest (except one that stops
 * typing), so a change sent sooner would be lost.
 */
const PUBLISH_INTERVAL_MS = 300
/**
 * Delay in ms after which "typing" is sent once more. The provider sends the state right
 * after it connects without an update event, so the server can drop a change sent within
 * 250 ms of that. The repeat makes the indicator appear anyway.
 */
const TYPING_REPEAT_MS = 1_000

/**
 * Publishes this user's awareness state `{ user, typing }` on one conversation and reads
 * everyone else's. The session creates a new provider, with a new awareness, on every
 * reconnect, so this follows the session and publishes the state again on each new one.
 */
export class SessionPresence {
  private readonly listeners = new Listeners()
  private awareness: Awareness | null = null
  private typing = false
  private lastSentAt = -Infinity
  private publishTimer: ReturnType<typeof setTimeout> | undefined
  private repeatTimer: ReturnType<typeof setTimeout> | undefined
  private snapshot = EMPTY
  private readonly unsubscribe: () => void
  private disposed = false

  constructor(
    readonly source: AwarenessSource,
    private user: PresenceUser,
  ) {
    this.unsubscribe = source.subscribe(this.follow)
    this.follow()
  }

  subscribe = (listener: () => void): (() => void) => this.listeners.subscribe(listener)

  getSnapshot = (): SessionPresenceSnapshot => this.snapshot

  setTyping(typing: boolean): void {
    if (typing === this.typing) return
    this.typing = typing
    this.publish()
    clearTimeout(this.repeatTimer)
    if (!typing) return
    this.repeatTimer = setTimeout(() => {
      if (this.typing) this.publish()
    }, TYPING_REPEAT_MS)
  }

  setUser(user: PresenceUser): void {
    if (user.id === this.user.id && user.name === this.user.name) return
    this.user = user
    this.publish()
  }

  /** Stops following the session; the local state stays until the provider ends. */
  dispose(): void {
    this.disposed = true
    this.unsubscribe()
    clearTimeout(this.publishTimer)
    clearTimeout(this.repeatTimer)
    this.release()
    this.listeners.clear()
  }

  private follow = (): void => {
    if (this.disposed) return
    const next = this.source.awareness
    if (next === this.awareness) return
    this.release()
    this.awareness = next
    if (next) {
      next.on('change', this.update)
      next.on('update', this.handleLocalUpdate)
      next.on('destroy', this.handleDestroy)
      this.lastSentAt = -Infinity
      this.publish()
    }
    this.update()
  }

  /**
   * Writes this user's state into the awareness, which the provider sends at once, or later
   * when the previous update went out less than PUBLISH_INTERVAL_MS ago.
   * NOTE: the server can still drop a name change made within 250 ms of a (re)connect, and
   * it then shows from the next renewal, at most 15 s later.
   */
  private publish(): void {
    const awareness = this.awareness
    if (!awareness || this.publishTimer !== undefined) return
    const wait = this.lastSentAt + PUBLISH_INTERVAL_MS - Date.now()
    if (wait > 0) {
      this.publishTimer = setTimeout(() => {
        this.publishTimer = undefined
        this.publish()
      }, wait)
      return
    }
    awareness.setLocalState({ ...awareness.getLocalState(), user: this.user, typing: this.typing })
  }

  // Every local update is sent, the provider's renewal every 15 s included.
  private handleLocalUpdate = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    _origin: unknown,
  ): void => {
    const clientId = this.awareness?.clientID
    if (clientId === undefined) return
    if (changes.added.includes(clientId) || changes.updated.includes(clientId)) {
      this.lastSentAt = Date.now()
    }
  }

  // The provider destroys its awareness when it stops, and the session may create the next
  // provider only later (after a backoff), or never when the session itself is destroyed.
  private handleDestroy = (): void => {
    this.release()
    this.update()
    queueMicrotask(this.follow)
  }

  private release(): void {
    const awareness = this.awareness
    if (!awareness) return
    this.awareness = null
    awareness.off('change', this.update)
    awareness.off('update', this.handleLocalUpdate)
    awareness.off('destroy', this.handleDestroy)
  }

  private update = (): void => {
    const next = this.awareness ? this.read(this.awareness) : EMPTY
    if (sameSnapshot(next, this.snapshot)) return
    this.snapshot = next
    this.listeners.notify()
  }

  private read(awareness: Awareness): SessionPresenceSnapshot {
    const online = new Set<UserId>()
    const typing = new Map<UserId, PresenceUser>()
    for (const state of presenceStates(awareness)) {
      online.add(state.user.id)
      // Other tabs of the same user are not shown as typing to that user.
      if (state.typing && state.user.id !== this.user.id) typing.set(state.user.id, state.user)
    }
    return { online, typing: [...typing.values()] }
  }
}

function sameSnapshot(a: SessionPresenceSnapshot, b: SessionPresenceSnapshot): boolean {
  if (a.online.size !== b.online.size || a.typing.length !== b.typing.length) return false
  for (const id of a.online) if (!b.online.has(id)) return false
  return a.typing.every(
    (user, index) => user.id === b.typing[index]?.id && user.name === b.typing[index]?.name,
  )
}

import type { UserId } from '../../../shared/ids.ts'
import { Listeners } from '../sync/listeners.ts'
import type { PresenceUser } from './awareness-state.ts'
import type { AwarenessSource } from './session-presence.ts'
import { SessionPresence } from './session-presence.ts'

/**
 * Presence across the conversations this device has opened: which users are online in any of
 * them. "Online" is per user, so several tabs or devices of one user count once, and a user
 * drops out once the last of their clients is removed or times out (30 s in y-protocols).
 */
export class PresenceDirectory {
  private readonly listeners = new Listeners()
  // Keyed by document name, so a conversation reopened in a new session replaces its entry
  // and the map never grows past the conversations opened in this tab.
  private readonly sessions = new Map<string, { presence: SessionPresence; stop: () => void }>()
  private online: ReadonlySet<UserId> = new Set()

  constructor(private user: PresenceUser) {}

  subscribe = (listener: () => void): (() => void) => this.listeners.subscribe(listener)

  /** Returns the users online in any open conversation. */
  getOnline = (): ReadonlySet<UserId> => this.online

  /** Returns the presence of a session, publishing this user's state there on first use. */
  track(source: AwarenessSource): SessionPresence {
    const existing = this.sessions.get(source.documentName)
    if (existing?.presence.source === source) return existing.presence
    if (existing) this.drop(source.documentName)

    const presence = new SessionPresence(source, this.user)
    const stop = presence.subscribe(this.update)
    this.sessions.set(source.documentName, { presence, stop })
    this.update()
    return presence
  }

  setUser(user: PresenceUser): void {
    this.user = user
    for (const { presence } of this.sessions.values()) presence.setUser(user)
  }

  destroy(): void {
    for (const name of [...this.sessions.keys()]) this.drop(name)
    this.listeners.clear()
  }

  private drop(documentName: string): void {
    const entry = this.sessions.get(documentName)
    if (!entry) return
    this.sessions.delete(documentName)
    entry.stop()
    entry.presence.dispose()
  }

  private update = (): void => {
    const online = new Set<UserId>()
    for (const { presence } of this.sessions.values()) {
      for (const id of presence.getSnapshot().online) online.add(id)
    }
    if (online.size === this.online.size && [...online].every((id) => this.online.has(id))) return
    this.online = online
    this.listeners.notify()
  }
}

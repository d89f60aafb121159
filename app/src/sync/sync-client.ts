import type { onCloseParameters } from '@hocuspocus/provider'
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { parseCloseReason } from '../../../shared/errors.ts'
import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { ConnectionMonitor } from './connection-monitor.ts'
import { ConversationSession } from './conversation-session.ts'
import { LocalCopyBudget, localCopiesKey } from './local-copy-budget.ts'

/** Conversations kept open after the user leaves them, so switching back is instant. */
const KEEP_OPEN = 8

export interface SyncClientOptions {
  userId: UserId
  onNotAuthenticated: () => void
  onDocumentChanged: (conversationId: ConversationId) => void
  onAccessLost: (conversationId: ConversationId) => void
}

/** Returns the URL of the sync socket on the origin the page came from. */
export function syncUrl(location: Location): string {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${protocol}//${location.host}/sync`
}

/**
 * The signed-in user's connection to the sync server: one socket shared by every open
 * conversation, the conversation sessions, the most recently used kept open, and the budget
 * of their history segments' local copies.
 */
export class SyncClient {
  readonly socket: HocuspocusProviderWebsocket
  readonly connection: ConnectionMonitor
  private readonly budget: LocalCopyBudget
  private readonly sessions = new Map<ConversationId, ConversationSession>()
  private readonly retained = new Map<ConversationId, number>()

  constructor(private readonly options: SyncClientOptions) {
    this.socket = new HocuspocusProviderWebsocket({ url: syncUrl(window.location) })
    this.socket.on('close', this.handleSocketClose)
    this.connection = new ConnectionMonitor(this.socket)
    this.budget = new LocalCopyBudget({
      storageKey: localCopiesKey(options.userId),
      // The list of copies is shared by the user's conversations, so every open one shows it.
      onQuotaExceeded: () => {
        for (const session of this.sessions.values()) session.reportStorageFull()
      },
    })
  }

  /** Returns the session of a conversation, opening it on first use. */
  session(conversationId: ConversationId): ConversationSession {
    const existing = this.sessions.get(conversationId)
    if (existing) {
      // Map order is insertion order, so moving the entry to the end marks it most recently used.
      this.sessions.delete(conversationId)
      this.sessions.set(conversationId, existing)
      return existing
    }
    const session = new ConversationSession({
      ...this.options,
      conversationId,
      socket: this.socket,
      budget: this.budget,
    })
    this.sessions.set(conversationId, session)
    this.closeUnused()
    return session
  }

  /** Keeps a conversation open until the returned function is called. */
  retain(conversationId: ConversationId): () => void {
    this.retained.set(conversationId, (this.retained.get(conversationId) ?? 0) + 1)
    return () => {
      const count = (this.retained.get(conversationId) ?? 1) - 1
      if (count > 0) this.retained.set(conversationId, count)
      else this.retained.delete(conversationId)
      this.closeUnused()
    }
  }

  destroy(): void {
    for (const session of this.sessions.values()) session.destroy()
    this.sessions.clear()
    this.socket.off('close', this.handleSocketClose)
    this.connection.destroy()
    this.socket.destroy()
  }

  private closeUnused(): void {
    let excess = this.sessions.size - KEEP_OPEN
    for (const [conversationId, session] of this.sessions) {
      if (excess <= 0) return
      if (this.retained.has(conversationId)) continue
      session.destroy()
      this.sessions.delete(conversationId)
      excess -= 1
    }
  }

  // Logout elsewhere or an expired session closes the whole socket with this reason.
  private handleSocketClose = ({ event }: onCloseParameters): void => {
    if (parseCloseReason(event.reason) === 'not_authenticated') this.options.onNotAuthenticated()
  }
}

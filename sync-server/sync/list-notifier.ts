import type { Hocuspocus } from '@hocuspocus/server'
import { userDocumentName } from '../../shared/document-names.ts'
import type { ConversationId, UserId } from '../../shared/ids.ts'
import type { Logger } from '../observability/logger.ts'

/** Stateless message after which a user's devices fetch their conversation list again. */
export interface ConversationsChangedMessage {
  type: 'conversations_changed'
  conversationId: ConversationId
}

/**
 * Delay that collects the changes of one conversation into one notification per member,
 * in ms. It is longer than SyncEngine's 250 ms activity delay, so that a list fetched on
 * the notification usually has the new preview and order already.
 */
export const NOTIFY_DELAY_MS = 500

/** Carrier of notifications to every instance, such as the control channel over Redis. */
export interface NotificationRelay {
  conversationsChanged(conversationId: ConversationId, userIds: UserId[]): Promise<void>
  onConversationsChanged(deliver: (conversationId: ConversationId, userIds: UserId[]) => void): void
}

/**
 * Sends `conversations_changed` to the open `user:<id>` connections of conversation members,
 * on this instance and, through the relay, on every other one. The Redis extension's own
 * stateless relay would not do: it forwards only from an instance that has the user's
 * document loaded, and the change usually happens on another.
 */
export class ListNotifier {
  private hocuspocus: Hocuspocus | undefined
  private relay: NotificationRelay | undefined
  private readonly pending = new Map<
    ConversationId,
    { userIds: Set<UserId>; allMembers: boolean; timer: NodeJS.Timeout }
  >()

  /**
   * @param memberIds lists a conversation's members, read once per notification that goes
   *   to all of them rather than once per change.
   */
  constructor(
    private readonly log: Logger,
    private readonly memberIds: (conversationId: ConversationId) => Promise<UserId[]>,
  ) {}

  /** Sets the Hocuspocus instance whose user documents receive the notifications. */
  attach(hocuspocus: Hocuspocus): void {
    this.hocuspocus = hocuspocus
  }

  /** Sends through a relay from now on. The relay calls back for each delivery on this instance. */
  useRelay(relay: NotificationRelay): void {
    this.relay = relay
    relay.onConversationsChanged((conversationId, userIds) =>
      this.deliverLocally(conversationId, userIds),
    )
  }

  /** Queues a notification for these users. Changes within NOTIFY_DELAY_MS go out as one. */
  notify(conversationId: ConversationId, userIds: Iterable<UserId>): void {
    const queued = this.queue(conversationId)
    for (const userId of userIds) queued.userIds.add(userId)
  }

  /**
   * Queues a notification for every member, as after a new message. The members are read
   * when the notification goes out, so a burst of messages costs one read.
   */
  notifyMembers(conversationId: ConversationId): void {
    this.queue(conversationId).allMembers = true
  }

  private queue(conversationId: ConversationId) {
    let queued = this.pending.get(conversationId)
    if (!queued) {
      const timer = setTimeout(() => void this.send(conversationId), NOTIFY_DELAY_MS)
      queued = { userIds: new Set(), allMembers: false, timer }
      this.pending.set(conversationId, queued)
    }
    return queued
  }

  /** Drops queued notifications, for shutdown. */
  stop(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer)
    this.pending.clear()
  }

  private async send(conversationId: ConversationId): Promise<void> {
    const queued = this.pending.get(conversationId)
    this.pending.delete(conversationId)
    if (!queued) return
    if (queued.allMembers) {
      try {
        for (const userId of await this.memberIds(conversationId)) queued.userIds.add(userId)
      } catch (error) {
        // The users queued by name still get theirs; the members see the change on their
        // next list fetch.
        this.log.error(
          { event: 'list_notification_members_failed', conversationId, err: error },
          'failed to read the members to notify of a conversation change',
        )
      }
    }
    if (queued.userIds.size === 0) return
    const userIds = [...queued.userIds]
    if (!this.relay) {
      this.deliverLocally(conversationId, userIds)
      return
    }
    this.relay
      .conversationsChanged(conversationId, userIds)
      .catch((error: unknown) =>
        this.log.error(
          { event: 'list_notification_failed', conversationId, users: userIds.length, err: error },
          'failed to relay a conversation list notification',
        ),
      )
  }

  /**
   * Sends the message to this instance's connections only. relayStateless skips the
   * beforeBroadcastStateless hook, through which the Redis extension would forward it a
   * second time to instances that the relay reaches already.
   */
  private deliverLocally(conversationId: ConversationId, userIds: UserId[]): void {
    const message: ConversationsChangedMessage = { type: 'conversations_changed', conversationId }
    const payload = JSON.stringify(message)
    for (const userId of userIds) {
      this.hocuspocus?.documents.get(userDocumentName(userId))?.relayStateless(payload)
    }
  }
}

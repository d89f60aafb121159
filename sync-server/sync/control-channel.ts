import { Redis } from 'ioredis'
import type { ConversationId, UserId } from '../../shared/ids.ts'
import type { SyncControl } from '../http/services.ts'
import type { Logger } from '../observability/logger.ts'
import type { ConnectionRegistry } from './connection-registry.ts'

type ControlMessage =
  | { type: 'close_session'; sessionId: string }
  | { type: 'close_member'; conversationId: string; userId: string }
  | { type: 'close_conversation'; conversationId: string }
  | { type: 'conversations_changed'; conversationId: ConversationId; userIds: UserId[] }

const CHANNEL = 'parley:control'

/**
 * Carries connection closes and conversation list notifications to every instance. Without
 * Redis there is one instance, and they apply locally; with Redis every instance, the sender
 * included, applies them.
 */
export class ControlChannel implements SyncControl {
  private publisher: Redis | undefined
  private subscriber: Redis | undefined
  private readonly listChangeListeners: ((
    conversationId: ConversationId,
    userIds: UserId[],
  ) => void)[] = []

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly logger: Logger,
  ) {}

  /** Subscribes to the channel; resolves once the subscription is active. */
  async connect(redisUrl: string): Promise<void> {
    this.publisher = new Redis(redisUrl, { lazyConnect: true })
    this.subscriber = new Redis(redisUrl, { lazyConnect: true })
    for (const client of [this.publisher, this.subscriber]) {
      client.on('error', (error) =>
        this.logger.error({ event: 'redis_error', err: error }, 'control channel Redis error'),
      )
    }
    try {
      await Promise.all([this.publisher.connect(), this.subscriber.connect()])
    } catch (error) {
      throw new Error(`cannot connect to Redis at ${redisHost(redisUrl)}; check REDIS_URL`, {
        cause: error,
      })
    }
    this.subscriber.on('message', (_channel: string, raw: string) => this.receive(raw))
    await this.subscriber.subscribe(CHANNEL)
  }

  close(): void {
    this.subscriber?.disconnect()
    this.publisher?.disconnect()
  }

  closeSession(sessionId: string): Promise<void> {
    return this.send({ type: 'close_session', sessionId })
  }

  closeMember(conversationId: ConversationId, userId: UserId): Promise<void> {
    return this.send({ type: 'close_member', conversationId, userId })
  }

  closeConversation(conversationId: ConversationId): Promise<void> {
    return this.send({ type: 'close_conversation', conversationId })
  }

  /** Tells every instance that these users' conversation lists changed. */
  conversationsChanged(conversationId: ConversationId, userIds: UserId[]): Promise<void> {
    return this.send({ type: 'conversations_changed', conversationId, userIds })
  }

  /** Registers the delivery of conversations_changed to this instance's connections. */
  onConversationsChanged(
    listener: (conversationId: ConversationId, userIds: UserId[]) => void,
  ): void {
    this.listChangeListeners.push(listener)
  }

  private async send(message: ControlMessage): Promise<void> {
    if (!this.publisher) {
      this.apply(message)
      return
    }
    // Apply locally at once too, so the caller's own instance never waits on Redis.
    this.apply(message)
    await this.publisher.publish(CHANNEL, JSON.stringify(message))
  }

  private receive(raw: string): void {
    try {
      this.apply(JSON.parse(raw) as ControlMessage)
    } catch (error) {
      this.logger.error({ event: 'control_message_invalid', err: error }, 'invalid control message')
    }
  }

  private apply(message: ControlMessage): void {
    const inConversation = (conversationId: string, documentName: string) =>
      documentName === `conv:${conversationId}` ||
      documentName.startsWith(`conv:${conversationId}:`)
    switch (message.type) {
      case 'close_session':
        this.registry.closeWhere(
          (owner) => owner.sessionId === message.sessionId,
          'not_authenticated',
        )
        return
      case 'close_member':
        this.registry.closeWhere(
          (owner) =>
            owner.userId === message.userId &&
            inConversation(message.conversationId, owner.documentName),
          'forbidden',
        )
        return
      case 'close_conversation':
        this.registry.closeWhere(
          (owner) => inConversation(message.conversationId, owner.documentName),
          'conversation_deleted',
        )
        return
      case 'conversations_changed':
        for (const listener of this.listChangeListeners) {
          listener(message.conversationId, message.userIds)
        }
        return
    }
  }
}

/** Returns the host and port of a Redis URL, leaving out any password. */
function redisHost(redisUrl: string): string {
  const url = new URL(redisUrl)
  return url.port ? `${url.hostname}:${url.port}` : url.hostname
}

import type { Context } from 'hono'
import { Hono } from 'hono'
import {
  addMemberBody,
  type Conversation,
  createConversationBody,
  type MessageLocation,
  updateConversationBody,
  updateMemberBody,
} from '../../shared/api.ts'
import { ID_PATTERN, type MessageId, type UserId } from '../../shared/ids.ts'
import { MessageIndex } from '../persistence/message-index.ts'
import { ApiError } from './api-error.ts'
import { type AppEnv, requireSession } from './auth-context.ts'
import { parseBody } from './parse-body.ts'
import type { Services } from './services.ts'

/** Routes of /api/conversations and /api/users. */
export function conversationRoutes(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const store = services.conversations
  const { writes, notifier } = services.chat
  const messageIndex = new MessageIndex(services.db)

  /** Tells the members' devices, and those of users who just left, to fetch their list. */
  const notifyMembers = (conversation: Conversation, ...others: UserId[]) =>
    notifier.notify(conversation.id, [
      ...conversation.members.map(({ user }) => user.id),
      ...others,
    ])

  /** Returns the conversation if the caller is a member; a non-member gets not_found. */
  const memberView = async (c: Context<AppEnv>): Promise<Conversation> => {
    const session = requireSession(c)
    const id = c.req.param('id') ?? ''
    // No conversation has an id outside the pattern, and Postgres rejects some such strings.
    if (!ID_PATTERN.test(id)) throw new ApiError('not_found', 'no such conversation')
    const conversation = await store.getForMember(id, session.userId)
    if (!conversation) throw new ApiError('not_found', 'no such conversation')
    return conversation
  }

  const adminView = async (c: Context<AppEnv>): Promise<Conversation> => {
    const conversation = await memberView(c)
    const userId = requireSession(c).userId
    const self = conversation.members.find((member) => member.user.id === userId)
    if (conversation.kind === 'direct') {
      throw new ApiError('forbidden', 'a direct chat has no admins and no member changes')
    }
    if (self?.role !== 'admin')
      throw new ApiError('forbidden', 'only admins of this group can do that')
    return conversation
  }

  app.get('/users', async (c) => {
    const session = requireSession(c)
    const query = (c.req.query('q') ?? '').trim().slice(0, 64)
    if (query.includes('\u0000')) {
      throw new ApiError('invalid_input', 'q: must not contain U+0000 (NUL)')
    }
    return c.json({ users: await services.users.search(query, session.userId) })
  })

  app.get('/conversations', async (c) => {
    const session = requireSession(c)
    return c.json({ conversations: await store.listForUser(session.userId) })
  })

  app.post('/conversations', async (c) => {
    const session = requireSession(c)
    const body = await parseBody(c, createConversationBody)
    const memberIds = [...new Set(body.memberIds)].filter((id) => id !== session.userId)
    const existing = await services.users.existingIds(memberIds)
    const missing = memberIds.find((id) => !existing.has(id))
    if (missing) throw new ApiError('invalid_input', `memberIds: no user has the id "${missing}"`)

    if (body.kind === 'direct') {
      const other = memberIds[0]
      if (memberIds.length !== 1 || !other) {
        throw new ApiError('invalid_input', 'memberIds: a direct chat names exactly one other user')
      }
      const result = await store.findOrCreateDirect(session.userId, other as UserId)
      if (result.created) notifyMembers(result.conversation)
      return c.json({ conversation: result.conversation }, result.created ? 201 : 200)
    }
    if (!body.title) throw new ApiError('invalid_input', 'title: a group needs a title')
    const conversation = await store.createGroup(session.userId, body.title, memberIds as UserId[])
    await writes.recordSystemEvent(conversation.id, {
      type: 'created',
      actorId: session.userId,
      title: body.title,
    })
    notifyMembers(conversation)
    return c.json({ conversation }, 201)
  })

  app.get('/conversations/:id', async (c) => c.json({ conversation: await memberView(c) }))

  app.patch('/conversations/:id', async (c) => {
    const conversation = await adminView(c)
    const userId = requireSession(c).userId
    const body = await parseBody(c, updateConversationBody)
    const renamed = await store.rename(conversation.id, body.title, userId)
    await writes.recordSystemEvent(conversation.id, {
      type: 'renamed',
      actorId: userId,
      title: body.title,
    })
    notifyMembers(renamed)
    return c.json({ conversation: renamed })
  })

  app.delete('/conversations/:id', async (c) => {
    const conversation = await adminView(c)
    await store.markDeleted(conversation.id)
    await services.sync.closeConversation(conversation.id)
    await services.documents.removeByPrefix(`conv:${conversation.id}`)
    notifyMembers(conversation)
    services.logger.info(
      {
        event: 'conversation_deleted',
        conversationId: conversation.id,
        userId: requireSession(c).userId,
      },
      'conversation deleted',
    )
    return c.body(null, 204)
  })

  app.post('/conversations/:id/members', async (c) => {
    const conversation = await adminView(c)
    const body = await parseBody(c, addMemberBody)
    const existing = await services.users.existingIds([body.userId])
    if (!existing.has(body.userId)) throw new ApiError('not_found', 'no such user')
    // The history before the member joined counts as read up to the newest indexed message,
    // so the messages this instance has accepted but not indexed yet go into the index first.
    // NOTE: another instance's pending index writes (at most 100 ms old) are not waited for.
    await services.chat.indexPending(conversation.id)
    const added = await store.addMember(conversation.id, body.userId as UserId)
    const updated = await memberView(c)
    if (added) {
      await writes.recordSystemEvent(conversation.id, {
        type: 'member_added',
        actorId: requireSession(c).userId,
        targetId: body.userId as UserId,
      })
      notifyMembers(updated)
    }
    return c.json({ conversation: updated }, added ? 201 : 200)
  })

  app.patch('/conversations/:id/members/:userId', async (c) => {
    const conversation = await adminView(c)
    const body = await parseBody(c, updateMemberBody)
    const targetId = c.req.param('userId') ?? ''
    if (!ID_PATTERN.test(targetId)) throw new ApiError('not_found', 'that user is not a member')
    const admins = conversation.members.filter((member) => member.role === 'admin')
    if (body.role === 'member' && admins.length === 1 && admins[0]?.user.id === targetId) {
      throw new ApiError('forbidden', 'a group needs an admin: promote another member first')
    }
    const changed = await store.setRole(conversation.id, targetId as UserId, body.role)
    if (!changed) throw new ApiError('not_found', 'that user is not a member')
    const updated = await memberView(c)
    const before = conversation.members.find((member) => member.user.id === targetId)
    if (before?.role !== body.role) {
      await writes.recordSystemEvent(conversation.id, {
        type: 'role_changed',
        actorId: requireSession(c).userId,
        targetId: targetId as UserId,
        role: body.role,
      })
      notifyMembers(updated)
    }
    return c.json({ conversation: updated })
  })

  app.delete('/conversations/:id/members/:userId', async (c) => {
    const session = requireSession(c)
    const targetId = c.req.param('userId') as UserId
    const conversation = await memberView(c)
    if (conversation.kind === 'direct') {
      if (targetId !== session.userId) {
        throw new ApiError('forbidden', 'a direct chat has no admins and no member changes')
      }
      await store.hideDirect(conversation.id, session.userId)
      notifier.notify(conversation.id, [session.userId])
      return c.body(null, 204)
    }
    if (targetId !== session.userId) await adminView(c)
    if (!ID_PATTERN.test(targetId)) throw new ApiError('not_found', 'that user is not a member')

    const result = await store.removeMember(conversation.id, targetId)
    if (!result.ok) throw new ApiError('not_found', 'that user is not a member')
    await services.sync.closeMember(conversation.id, targetId)
    const leaving = targetId === session.userId
    await writes.recordSystemEvent(conversation.id, {
      type: leaving ? 'member_left' : 'member_removed',
      actorId: session.userId,
      targetId: leaving ? undefined : targetId,
    })
    if (result.promotedId) {
      // The server chose the new admin, so the event names the user who caused the change.
      await writes.recordSystemEvent(conversation.id, {
        type: 'role_changed',
        actorId: session.userId,
        targetId: result.promotedId,
        role: 'admin',
      })
    }
    notifyMembers(conversation, targetId)
    return c.body(null, 204)
  })

  // Returns the history segment that contains a message, and the message itself, so that a
  // client shows an old message, such as the original of a reply, without opening its segment.
  app.get('/conversations/:id/messages/:messageId', async (c) => {
    const conversation = await memberView(c)
    const messageId = c.req.param('messageId') ?? ''
    if (!ID_PATTERN.test(messageId)) throw new ApiError('not_found', 'no such message')
    const located = await messageIndex.locate(conversation.id, messageId)
    if (!located) throw new ApiError('not_found', 'no such message')
    const content = await writes.readMessage(
      conversation.id,
      located.segment,
      messageId as MessageId,
    )
    const message: MessageLocation = {
      id: messageId as MessageId,
      segment: located.segment,
      // The author's client clears the text of a deleted message, but a modified one may not.
      content: content ? { ...content, text: content.deleted ? '' : content.text } : null,
    }
    return c.json({ message })
  })

  // Removes a message as a group admin. The text leaves the document and a moderation
  // record takes its place, which clients render as a placeholder.
  app.delete('/conversations/:id/messages/:messageId', async (c) => {
    const conversation = await adminView(c)
    const userId = requireSession(c).userId
    const messageId = c.req.param('messageId') ?? ''
    if (!ID_PATTERN.test(messageId)) throw new ApiError('not_found', 'no such message')
    const result = await writes.moderateMessage(conversation.id, messageId as MessageId, userId)
    if (result === 'not_found') throw new ApiError('not_found', 'no such message')
    services.logger.info(
      { event: 'message_moderated', conversationId: conversation.id, messageId, userId },
      'message removed by an admin',
    )
    return c.body(null, 204)
  })

  return app
}

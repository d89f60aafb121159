import type {
  Conversation,
  CreateConversationBody,
  CredentialsBody,
  MemberRole,
  MessageLocation,
  SignupBody,
  User,
} from '../../../shared/api.ts'
import type { ConversationId, MessageId, UserId } from '../../../shared/ids.ts'
import { request } from './http.ts'

/** The REST endpoints of the server, one function each. */
export const api = {
  signup: (body: SignupBody) => request<{ user: User }>('POST', '/api/auth/signup', body),
  login: (body: CredentialsBody) => request<{ user: User }>('POST', '/api/auth/login', body),
  logout: () => request<undefined>('POST', '/api/auth/logout'),
  me: () => request<{ user: User }>('GET', '/api/me'),

  searchUsers: (query: string) =>
    request<{ users: User[] }>('GET', `/api/users?q=${encodeURIComponent(query)}`),

  conversations: () => request<{ conversations: Conversation[] }>('GET', '/api/conversations'),
  conversation: (id: ConversationId) =>
    request<{ conversation: Conversation }>('GET', `/api/conversations/${id}`),
  createConversation: (body: CreateConversationBody) =>
    request<{ conversation: Conversation }>('POST', '/api/conversations', body),
  deleteConversation: (id: ConversationId) =>
    request<undefined>('DELETE', `/api/conversations/${id}`),
  addMember: (id: ConversationId, userId: UserId) =>
    request<unknown>('POST', `/api/conversations/${id}/members`, { userId }),
  setMemberRole: (id: ConversationId, userId: UserId, role: MemberRole) =>
    request<unknown>('PATCH', `/api/conversations/${id}/members/${userId}`, { role }),
  removeMember: (id: ConversationId, userId: UserId) =>
    request<undefined>('DELETE', `/api/conversations/${id}/members/${userId}`),
  locateMessage: (id: ConversationId, messageId: MessageId) =>
    request<{ message: MessageLocation }>('GET', `/api/conversations/${id}/messages/${messageId}`),
}

import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as Y from 'yjs'
import type { Conversation, User } from '../../shared/api.ts'

let counter = 0

/** Returns a username that no other test uses. */
export function uniqueName(prefix = 'user'): string {
  counter++
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`.slice(0, 32)
}

/** A user signed in through the HTTP API with a bearer token. */
export interface ApiUser {
  user: User
  token: string
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>
}

/** Sends a JSON request and returns the status and parsed body. */
export async function requestJson<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.token) headers.authorization = `Bearer ${options.token}`
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await response.text()
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    headers: response.headers,
  }
}

/** Password of every user that createApiUser signs up. */
export const API_USER_PASSWORD = 'correct horse battery'

/** Signs up a new user and takes a bearer token for it. */
export async function createApiUser(baseUrl: string, prefix = 'user'): Promise<ApiUser> {
  const username = uniqueName(prefix)
  const password = API_USER_PASSWORD
  const signup = await requestJson<{ user: User }>(baseUrl, 'POST', '/api/auth/signup', {
    body: { username, password },
  })
  if (signup.status !== 201) throw new Error(`signup failed: ${JSON.stringify(signup.body)}`)
  const token = await requestJson<{ token: string }>(baseUrl, 'POST', '/api/auth/token', {
    body: { username, password },
  })
  if (token.status !== 201) throw new Error(`token failed: ${JSON.stringify(token.body)}`)
  return {
    user: signup.body.user,
    token: token.body.token,
    request: (method, path, body) =>
      requestJson(baseUrl, method, path, { body, token: token.body.token }),
  }
}

/** Creates a group through the API as its admin. */
export async function createGroup(admin: ApiUser, members: ApiUser[], title = 'Test group') {
  const response = await admin.request<{ conversation: Conversation }>(
    'POST',
    '/api/conversations',
    {
      kind: 'group',
      title,
      memberIds: members.map((member) => member.user.id),
    },
  )
  if (response.status !== 201) throw new Error(`create failed: ${JSON.stringify(response.body)}`)
  return response.body.conversation
}

/** A Node sync client: one socket and one provider for one document. */
export interface SyncClient {
  doc: Y.Doc
  provider: HocuspocusProvider
  socket: HocuspocusProviderWebsocket
  /** Reasons of authenticationFailed events, in order. */
  refusals: string[]
  /** Reasons of closes sent by the server for this document, in order. */
  closes: string[]
  destroy(): void
}

/** Opens a document over /sync with a bearer token; does not wait for the sync. */
export function openDocument(
  baseUrl: string,
  token: string,
  documentName: string,
  doc = new Y.Doc(),
): SyncClient {
  const socket = new HocuspocusProviderWebsocket({
    url: `${baseUrl.replace(/^http/, 'ws')}/sync`,
    maxAttempts: 1,
  })
  const refusals: string[] = []
  const closes: string[] = []
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name: documentName,
    document: doc,
    token,
    onAuthenticationFailed: ({ reason }) => refusals.push(reason),
    onClose: ({ event }) => {
      if (event.reason) closes.push(event.reason)
    },
  })
  provider.attach()
  return {
    doc,
    provider,
    socket,
    refusals,
    closes,
    destroy: () => {
      provider.destroy()
      socket.destroy()
    },
  }
}

/** Waits until a condition holds, polling every 20 ms; throws with the description on timeout. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  description: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)
}

/** Waits for a client's first sync with the server. */
export function waitForSync(client: SyncClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => client.provider.isSynced, 'the provider to sync', timeoutMs)
}

/** Waits until every local change of a client is acknowledged by the server. */
export function waitForAcknowledged(client: SyncClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(
    () => client.provider.isSynced && client.provider.unsyncedChanges === 0,
    'the server to acknowledge every change',
    timeoutMs,
  )
}

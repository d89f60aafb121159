import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Conversation, TokenResponse, User } from '../../shared/api.ts'
import { sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import { HTTP_STATUS, type HttpErrorCode } from '../../shared/errors.ts'
import { ID_PATTERN, type UserId } from '../../shared/ids.ts'
import { SESSION_LIFETIME_MS } from '../../sync-server/auth/session-token.ts'
import {
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  requestJson,
  uniqueName,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const PASSWORD = 'correct horse battery'
const DAY_MS = 24 * 60 * 60 * 1000
/** An id of the right shape that no conversation or user has. */
const UNKNOWN_ID = 'zzzzzzzzzzzzzzzzzzzz'

interface Response<T = unknown> {
  status: number
  body: T
  headers?: Headers
}

/** Checks that a response is the error body of one code, with its status. */
function expectError(response: Response, code: HttpErrorCode): void {
  expect(response.status).toBe(HTTP_STATUS[code])
  expect(response.body).toEqual({ error: { code, message: expect.any(String) } })
}

/** Returns the attributes of a Set-Cookie header, keyed by lower-case name. */
function cookieAttributes(setCookie: string): Map<string, string> {
  const attributes = new Map<string, string>()
  for (const part of setCookie.split(';').slice(1)) {
    const [name = '', value = ''] = part.trim().split('=')
    attributes.set(name.toLowerCase(), value)
  }
  return attributes
}

/** Returns the `name=value` pair of the session cookie that a response sets. */
function sessionCookie(headers: Headers | undefined): string {
  const setCookie = headers?.getSetCookie().find((cookie) => cookie.startsWith('parley_session='))
  if (!setCookie) throw new Error('the response sets no parley_session cookie')
  return setCookie.split(';')[0] ?? ''
}

function idsOf(conversations: Conversation[], among: string[]): string[] {
  return conversations.map((conversation) => conversation.id).filter((id) => among.includes(id))
}

function roleOf(conversation: Conversation, userId: UserId): string | undefined {
  return conversation.members.find((member) => member.user.id === userId)?.role
}

describe.each(['pglite', 'postgres'] as const)('HTTP API on %s', (kind) => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer({ database: kind })
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  function send<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Response<T>> {
    return requestJson<T>(server.url, method, path, options)
  }

  /** Sends a body as it is, without encoding it as JSON. */
  async function sendRaw(
    path: string,
    body: string | ReadableStream<Uint8Array>,
    contentType: string | null = 'application/json',
  ): Promise<Response> {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: contentType === null ? {} : { 'content-type': contentType },
      body,
      duplex: 'half',
    } as RequestInit)
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : undefined }
  }

  function signup(body: Record<string, unknown>, headers: Record<string, string> = {}) {
    return send<{ user: User }>('POST', '/api/auth/signup', { body, headers })
  }

  /** Signs up a user and returns its name and session cookie. */
  async function signupWithCookie(prefix = 'cookie') {
    const username = uniqueName(prefix)
    const response = await signup({ username, password: PASSWORD })
    return { username, user: response.body.user, cookie: sessionCookie(response.headers) }
  }

  function withCookie(cookie: string, origin?: string): Record<string, string> {
    return origin === undefined ? { cookie } : { cookie, origin }
  }

  function newUser(prefix = 'user'): Promise<ApiUser> {
    return createApiUser(server.url, prefix)
  }

  async function createDirect(from: ApiUser, to: ApiUser) {
    return from.request<{ conversation: Conversation }>('POST', '/api/conversations', {
      kind: 'direct',
      memberIds: [to.user.id],
    })
  }

  async function listIds(user: ApiUser): Promise<string[]> {
    const response = await user.request<{ conversations: Conversation[] }>(
      'GET',
      '/api/conversations',
    )
    return response.body.conversations.map((conversation) => conversation.id)
  }

  describe('signup', () => {
    it('returns 201 with the user', async () => {
      const username = uniqueName('signup')
      const response = await signup({ username, password: PASSWORD })

      expect(response.status).toBe(201)
      expect(response.body.user.username).toBe(username)
      expect(response.body.user.displayName).toBe(username)
      expect(response.body.user.id).toMatch(ID_PATTERN)
    })

    it('keeps the given display name', async () => {
      const username = uniqueName('signup')
      const response = await signup({ username, password: PASSWORD, displayName: 'Dana Scully' })

      expect(response.status).toBe(201)
      expect(response.body.user.displayName).toBe('Dana Scully')
    })

    it('sets an HttpOnly Lax cookie over HTTP', async () => {
      const response = await signup({ username: uniqueName('signup'), password: PASSWORD })
      const setCookie = response.headers?.get('set-cookie') ?? ''
      const attributes = cookieAttributes(setCookie)

      expect(setCookie).toMatch(/^parley_session=[a-z2-7]{32};/)
      expect(attributes.has('httponly')).toBe(true)
      expect(attributes.get('samesite')).toBe('Lax')
      expect(attributes.get('path')).toBe('/')
      expect(attributes.has('secure')).toBe(false)
    })

    it('sets a Secure cookie behind an HTTPS proxy', async () => {
      const response = await signup(
        { username: uniqueName('signup'), password: PASSWORD },
        { 'x-forwarded-proto': 'https' },
      )
      const attributes = cookieAttributes(response.headers?.get('set-cookie') ?? '')

      expect(attributes.has('secure')).toBe(true)
      expect(attributes.has('httponly')).toBe(true)
      expect(attributes.get('samesite')).toBe('Lax')
    })

    it('gives a cookie that authenticates', async () => {
      const { user, cookie } = await signupWithCookie()
      const response = await send<{ user: User }>('GET', '/api/me', { headers: { cookie } })

      expect(response.status).toBe(200)
      expect(response.body.user).toEqual(user)
    })

    it('rejects malformed JSON', async () => {
      expectError(await sendRaw('/api/auth/signup', '{"username": "ana",'), 'invalid_input')
    })

    it.each([
      ['text/plain', 'text/plain;charset=UTF-8'],
      ['a form', 'application/x-www-form-urlencoded'],
    ])('rejects a JSON body sent as %s', async (_case, contentType) => {
      const body = JSON.stringify({ username: uniqueName('ana'), password: PASSWORD })
      const response = await sendRaw('/api/auth/signup', body, contentType)

      expectError(response, 'invalid_input')
      expect(JSON.stringify(response.body)).toContain('application/json')
    })

    it('accepts a JSON media type with parameters', async () => {
      const body = JSON.stringify({ username: uniqueName('ana'), password: PASSWORD })
      const response = await sendRaw('/api/auth/signup', body, 'application/json; charset=utf-8')

      expect(response.status).toBe(201)
    })

    it.each([
      ['2 characters', 'ab'],
      ['33 characters', 'a'.repeat(33)],
      ['a space', 'ana banana'],
      ['an at sign', 'ana@example'],
    ])('rejects a username of %s', async (_label, username) => {
      const response = await signup({ username, password: PASSWORD })

      expectError(response, 'invalid_input')
      expect(JSON.stringify(response.body)).toContain('username')
    })

    it('rejects a password of 7 characters', async () => {
      const response = await signup({ username: uniqueName('signup'), password: '1234567' })

      expectError(response, 'invalid_input')
      expect(JSON.stringify(response.body)).toContain('password')
    })

    it('rejects an unknown field', async () => {
      const response = await signup({
        username: uniqueName('signup'),
        password: PASSWORD,
        role: 'admin',
      })

      expectError(response, 'invalid_input')
    })

    it('rejects a taken username in another case', async () => {
      const username = uniqueName('taken')
      await signup({ username, password: PASSWORD })

      expectError(await signup({ username, password: PASSWORD }), 'conflict')
      expectError(
        await signup({ username: username.toUpperCase(), password: PASSWORD }),
        'conflict',
      )
    })
  })

  describe('login', () => {
    it('matches the username regardless of case', async () => {
      const username = `Mixed${uniqueName('login')}`.slice(0, 32)
      const created = await signup({ username, password: PASSWORD })
      const response = await send<{ user: User }>('POST', '/api/auth/login', {
        body: { username: username.toLowerCase(), password: PASSWORD },
      })

      expect(response.status).toBe(200)
      expect(response.body.user).toEqual(created.body.user)
      expect(response.body.user.username).toBe(username)
    })

    it('sets a session cookie', async () => {
      const username = uniqueName('login')
      await signup({ username, password: PASSWORD })
      const response = await send('POST', '/api/auth/login', {
        body: { username, password: PASSWORD },
      })
      const me = await send('GET', '/api/me', {
        headers: { cookie: sessionCookie(response.headers) },
      })

      expect(me.status).toBe(200)
    })

    it('rejects a wrong password', async () => {
      const username = uniqueName('login')
      await signup({ username, password: PASSWORD })
      const response = await send('POST', '/api/auth/login', {
        body: { username, password: `${PASSWORD}!` },
      })

      expectError(response, 'not_authenticated')
    })

    it('rejects an unknown user like a wrong password', async () => {
      const username = uniqueName('login')
      await signup({ username, password: PASSWORD })
      const wrongPassword = await send('POST', '/api/auth/login', {
        body: { username, password: `${PASSWORD}!` },
      })
      const unknownUser = await send('POST', '/api/auth/login', {
        body: { username: uniqueName('nobody'), password: PASSWORD },
      })

      expectError(unknownUser, 'not_authenticated')
      expect(unknownUser.body).toEqual(wrongPassword.body)
    })

    it('rejects an unknown field', async () => {
      const response = await send('POST', '/api/auth/login', {
        body: { username: 'someone', password: PASSWORD, remember: true },
      })

      expectError(response, 'invalid_input')
    })
  })

  describe('token', () => {
    it('returns 201 with a token and its expiry', async () => {
      const username = uniqueName('token')
      await signup({ username, password: PASSWORD })
      const before = Date.now()
      const response = await send<TokenResponse>('POST', '/api/auth/token', {
        body: { username: username.toUpperCase(), password: PASSWORD },
      })
      const expiresAt = Date.parse(response.body.expiresAt)

      expect(response.status).toBe(201)
      expect(response.body.token).toMatch(/^[a-z2-7]{32}$/)
      expect(new Date(expiresAt).toISOString()).toBe(response.body.expiresAt)
      expect(expiresAt).toBeGreaterThanOrEqual(before + SESSION_LIFETIME_MS)
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + SESSION_LIFETIME_MS)
    })

    it('sets no cookie', async () => {
      const username = uniqueName('token')
      await signup({ username, password: PASSWORD })
      const response = await send('POST', '/api/auth/token', {
        body: { username, password: PASSWORD },
      })

      expect(response.headers?.get('set-cookie')).toBeNull()
    })

    it('rejects a wrong password', async () => {
      const username = uniqueName('token')
      await signup({ username, password: PASSWORD })
      const response = await send('POST', '/api/auth/token', {
        body: { username, password: 'wrong password' },
      })

      expectError(response, 'not_authenticated')
    })

    it('works on every endpoint', async () => {
      const ana = await newUser('bearer')
      const ben = await newUser('bearer')
      const cid = await newUser('bearer')
      const group = await createGroup(ana, [ben])
      const path = `/api/conversations/${group.id}`
      const steps: [method: string, path: string, body: unknown, status: number][] = [
        ['GET', '/api/me', undefined, 200],
        ['PATCH', '/api/me', { displayName: 'Ana' }, 200],
        ['GET', '/api/users?q=bearer', undefined, 200],
        ['GET', '/api/conversations', undefined, 200],
        ['POST', '/api/conversations', { kind: 'direct', memberIds: [ben.user.id] }, 201],
        ['GET', path, undefined, 200],
        ['PATCH', path, { title: 'Renamed' }, 200],
        ['POST', `${path}/members`, { userId: cid.user.id }, 201],
        ['PATCH', `${path}/members/${ben.user.id}`, { role: 'admin' }, 200],
        ['DELETE', `${path}/members/${cid.user.id}`, undefined, 204],
        ['DELETE', path, undefined, 204],
        ['POST', '/api/auth/logout', undefined, 204],
      ]

      for (const [method, stepPath, body, status] of steps) {
        const response = await ana.request(method, stepPath, body)
        expect(response.status, `${method} ${stepPath}`).toBe(status)
      }
    })
  })

  describe('logout', () => {
    it('revokes the bearer token', async () => {
      const ana = await newUser('logout')

      expect((await ana.request('POST', '/api/auth/logout')).status).toBe(204)
      expectError(await ana.request('GET', '/api/me'), 'not_authenticated')
    })

    it('keeps the other sessions of the user', async () => {
      const { username, cookie } = await signupWithCookie('logout')
      const token = await send<TokenResponse>('POST', '/api/auth/token', {
        body: { username, password: PASSWORD },
      })

      await send('POST', '/api/auth/logout', { token: token.body.token })
      expect((await send('GET', '/api/me', { headers: { cookie } })).status).toBe(200)
    })

    it('revokes the cookie and clears it', async () => {
      const { cookie } = await signupWithCookie('logout')
      const response = await send('POST', '/api/auth/logout', {
        headers: withCookie(cookie, server.url),
      })
      const attributes = cookieAttributes(response.headers?.get('set-cookie') ?? '')

      expect(response.status).toBe(204)
      expect(response.headers?.get('set-cookie')).toMatch(/^parley_session=;/)
      expect(attributes.get('max-age')).toBe('0')
      expectError(await send('GET', '/api/me', { headers: { cookie } }), 'not_authenticated')
    })

    it('requires a session', async () => {
      expectError(await send('POST', '/api/auth/logout'), 'not_authenticated')
    })
  })

  describe('sessions', () => {
    it('rejects a request without credentials', async () => {
      expectError(await send('GET', '/api/me'), 'not_authenticated')
    })

    it('rejects an unknown bearer token', async () => {
      const response = await send('GET', '/api/me', { token: 'a'.repeat(32) })

      expectError(response, 'not_authenticated')
    })

    it('rejects an expired token', async () => {
      const ana = await newUser('expired')
      const issuedAt = new Date(Date.now() - 31 * DAY_MS)
      const { token } = await server.server.services.sessions.create(ana.user.id, 'token', issuedAt)

      expectError(await send('GET', '/api/me', { token }), 'not_authenticated')
    })

    it('accepts a token inside the renew window', async () => {
      const ana = await newUser('renew')
      const issuedAt = new Date(Date.now() - 20 * DAY_MS)
      const { token } = await server.server.services.sessions.create(ana.user.id, 'token', issuedAt)

      expect((await send('GET', '/api/me', { token })).status).toBe(200)
    })

    // Regression: the cookie kept its first Max-Age, so browsers dropped a renewed session.
    it('sets the cookie again when the session renews', async () => {
      const ana = await newUser('renew')
      const issuedAt = new Date(Date.now() - 20 * DAY_MS)
      const { token } = await server.server.services.sessions.create(
        ana.user.id,
        'cookie',
        issuedAt,
      )
      const response = await send('GET', '/api/me', {
        headers: { cookie: `parley_session=${token}` },
      })
      const setCookie = response.headers?.get('set-cookie') ?? ''
      const attributes = cookieAttributes(setCookie)

      expect(response.status).toBe(200)
      expect(setCookie.startsWith(`parley_session=${token};`)).toBe(true)
      expect(attributes.get('max-age')).toBe(String(SESSION_LIFETIME_MS / 1000))
      expect(attributes.has('httponly')).toBe(true)
    })

    it('sets no cookie while the session is fresh', async () => {
      const { cookie } = await signupWithCookie('fresh')
      const response = await send('GET', '/api/me', { headers: { cookie } })

      expect(response.headers?.get('set-cookie')).toBeNull()
    })
  })

  describe('origin', () => {
    it('rejects a cookie write without Origin', async () => {
      const { cookie } = await signupWithCookie('origin')
      const response = await send('PATCH', '/api/me', {
        body: { displayName: 'No Origin' },
        headers: withCookie(cookie),
      })

      expectError(response, 'forbidden')
    })

    it('rejects a cookie write from a foreign Origin', async () => {
      const { cookie } = await signupWithCookie('origin')
      const response = await send('POST', '/api/conversations', {
        body: { kind: 'group', title: 'Phish', memberIds: [] },
        headers: withCookie(cookie, 'https://evil.example'),
      })

      expectError(response, 'forbidden')
    })

    it('rejects a cookie logout without Origin', async () => {
      const { cookie } = await signupWithCookie('origin')
      const response = await send('POST', '/api/auth/logout', { headers: withCookie(cookie) })

      expectError(response, 'forbidden')
      expect((await send('GET', '/api/me', { headers: { cookie } })).status).toBe(200)
    })

    it('accepts a cookie write from the server Origin', async () => {
      const { cookie } = await signupWithCookie('origin')
      const response = await send<{ user: User }>('PATCH', '/api/me', {
        body: { displayName: 'Same Origin' },
        headers: withCookie(cookie, server.url),
      })

      expect(response.status).toBe(200)
      expect(response.body.user.displayName).toBe('Same Origin')
    })

    it('accepts a cookie read without Origin', async () => {
      const { cookie } = await signupWithCookie('origin')

      expect((await send('GET', '/api/conversations', { headers: { cookie } })).status).toBe(200)
    })

    it('accepts a bearer write without Origin', async () => {
      const ana = await newUser('origin')

      expect((await ana.request('PATCH', '/api/me', { displayName: 'Script' })).status).toBe(200)
    })

    it('rejects a signup from a foreign Origin', async () => {
      const response = await signup(
        { username: uniqueName('origin'), password: PASSWORD },
        { origin: 'https://evil.example' },
      )

      expectError(response, 'forbidden')
    })
  })

  describe('me', () => {
    it('returns the caller', async () => {
      const ana = await newUser('me')
      const response = await ana.request<{ user: User }>('GET', '/api/me')

      expect(response.status).toBe(200)
      expect(response.body.user).toEqual(ana.user)
    })

    it('changes the display name', async () => {
      const ana = await newUser('me')
      const patched = await ana.request<{ user: User }>('PATCH', '/api/me', {
        displayName: '  Ana Lima  ',
      })
      const fetched = await ana.request<{ user: User }>('GET', '/api/me')

      expect(patched.status).toBe(200)
      expect(patched.body.user).toEqual({ ...ana.user, displayName: 'Ana Lima' })
      expect(fetched.body.user.displayName).toBe('Ana Lima')
    })

    it('rejects an empty display name', async () => {
      const ana = await newUser('me')

      expectError(await ana.request('PATCH', '/api/me', { displayName: ' ' }), 'invalid_input')
    })

    it('rejects a username change', async () => {
      const ana = await newUser('me')
      const response = await ana.request('PATCH', '/api/me', {
        displayName: 'Ana',
        username: 'root',
      })

      expectError(response, 'invalid_input')
    })
  })

  describe('user search', () => {
    it('matches prefixes in any case, max 20', async () => {
      const prefix = uniqueName('find')
      const caller = await signupWithCookie(prefix)
      const names = Array.from({ length: 21 }, (_, i) => `${prefix}_${i}`.slice(0, 32))
      await Promise.all(names.map((username) => signup({ username, password: PASSWORD })))
      const response = await send<{ users: User[] }>(
        'GET',
        `/api/users?q=${encodeURIComponent(prefix.toUpperCase())}`,
        { headers: { cookie: caller.cookie } },
      )
      const found = response.body.users.map((user) => user.username)

      expect(response.status).toBe(200)
      expect(found).toHaveLength(20)
      expect(found.every((username) => username.startsWith(prefix))).toBe(true)
      expect(found).not.toContain(caller.username)
    })

    it('excludes the caller', async () => {
      const ana = await newUser('self')
      const response = await ana.request<{ users: User[] }>(
        'GET',
        `/api/users?q=${ana.user.username}`,
      )

      expect(response.body.users).toEqual([])
    })

    it('matches a display name prefix', async () => {
      const ana = await newUser('search')
      const marker = uniqueName('Dn')
      const username = uniqueName('shown')
      await signup({ username, password: PASSWORD, displayName: `${marker} Lovelace` })
      const response = await ana.request<{ users: User[] }>(
        'GET',
        `/api/users?q=${encodeURIComponent(marker.toLowerCase())}`,
      )

      expect(response.body.users.map((user) => user.username)).toEqual([username])
    })

    it('does not match inside a name', async () => {
      const ana = await newUser('search')
      const ben = await newUser('search')
      const middle = ben.user.username.slice(3)
      const response = await ana.request<{ users: User[] }>('GET', `/api/users?q=${middle}`)

      expect(response.body.users).toEqual([])
    })

    it('treats LIKE wildcards as text', async () => {
      const ana = await newUser('search')
      const response = await ana.request<{ users: User[] }>('GET', '/api/users?q=%25')

      expect(response.body.users).toEqual([])
    })

    it('requires a session', async () => {
      expectError(await send('GET', '/api/users?q=a'), 'not_authenticated')
    })
  })

  describe('conversation list', () => {
    it('lists the newest activity first', async () => {
      const ana = await newUser('list')
      const ben = await newUser('list')
      const first = await createGroup(ana, [ben], 'First')
      const second = await createGroup(ana, [], 'Second')
      const direct = await createDirect(ana, ben)
      const ids = [first.id, second.id, direct.body.conversation.id]
      const response = await ana.request<{ conversations: Conversation[] }>(
        'GET',
        '/api/conversations',
      )

      expect(response.status).toBe(200)
      expect(idsOf(response.body.conversations, ids)).toEqual([...ids].reverse())
    })

    it('moves a conversation up on a new message', async () => {
      const ana = await newUser('activity')
      const older = await createGroup(ana, [], 'Older')
      const newer = await createGroup(ana, [], 'Newer')
      const client = openDocument(server.url, ana.token, conversationDocumentName(older.id))
      await waitForSync(client)
      sendMessage(client.doc, { authorId: ana.user.id, text: 'bump' })
      await waitForAcknowledged(client)
      client.destroy()

      await waitFor(
        async () => (await listIds(ana))[0] === older.id,
        'the conversation with the new message to come first',
      )
      const response = await ana.request<{ conversations: Conversation[] }>(
        'GET',
        '/api/conversations',
      )
      expect(idsOf(response.body.conversations, [older.id, newer.id])).toEqual([older.id, newer.id])
      expect(response.body.conversations[0]?.lastMessage?.text).toBe('bump')
    })

    it('contains only conversations of the caller', async () => {
      const ana = await newUser('list')
      const ben = await newUser('list')
      const group = await createGroup(ben, [], 'Private')

      expect(await listIds(ana)).not.toContain(group.id)
    })

    it('requires a session', async () => {
      expectError(await send('GET', '/api/conversations'), 'not_authenticated')
    })
  })

  describe('direct chats', () => {
    it('returns the same chat from either side', async () => {
      const ana = await newUser('direct')
      const ben = await newUser('direct')
      const created = await createDirect(ana, ben)
      const fromBen = await createDirect(ben, ana)
      const again = await createDirect(ana, ben)

      expect(created.status).toBe(201)
      expect(fromBen.status).toBe(200)
      expect(again.status).toBe(200)
      expect(fromBen.body.conversation.id).toBe(created.body.conversation.id)
      expect(again.body.conversation.id).toBe(created.body.conversation.id)
    })

    it('has two members and no admins', async () => {
      const ana = await newUser('direct')
      const ben = await newUser('direct')
      const { conversation } = (await createDirect(ana, ben)).body

      expect(conversation.kind).toBe('direct')
      expect(conversation.title).toBeNull()
      expect(conversation.members.map((member) => member.user.id).sort()).toEqual(
        [ana.user.id, ben.user.id].sort(),
      )
      expect(conversation.members.map((member) => member.role)).toEqual(['member', 'member'])
    })

    it('shows up for the other user', async () => {
      const ana = await newUser('direct')
      const ben = await newUser('direct')
      const { conversation } = (await createDirect(ana, ben)).body

      expect(await listIds(ben)).toContain(conversation.id)
    })

    it('rejects a blank group title', async () => {
      const ana = await newUser('group')
      const response = await ana.request<{ error: { message: string } }>(
        'POST',
        '/api/conversations',
        { kind: 'group', title: '   ', memberIds: [] },
      )

      expectError(response, 'invalid_input')
      expect(response.body.error.message).toBe('title: must contain a character other than spaces')
    })

    it('rejects a chat with yourself', async () => {
      const ana = await newUser('direct')
      const response = await ana.request('POST', '/api/conversations', {
        kind: 'direct',
        memberIds: [ana.user.id],
      })

      expectError(response, 'invalid_input')
    })

    it('rejects two other users', async () => {
      const ana = await newUser('direct')
      const ben = await newUser('direct')
      const cid = await newUser('direct')
      const response = await ana.request('POST', '/api/conversations', {
        kind: 'direct',
        memberIds: [ben.user.id, cid.user.id],
      })

      expectError(response, 'invalid_input')
    })

    it('rejects an unknown user', async () => {
      const ana = await newUser('direct')
      const response = await ana.request('POST', '/api/conversations', {
        kind: 'direct',
        memberIds: [UNKNOWN_ID],
      })

      expectError(response, 'invalid_input')
    })

    it('forbids member and title changes', async () => {
      const ana = await newUser('direct')
      const ben = await newUser('direct')
      const cid = await newUser('direct')
      const { conversation } = (await createDirect(ana, ben)).body
      const path = `/api/conversations/${conversation.id}`

      const add = await ana.request('POST', `${path}/members`, { userId: cid.user.id })
      const promote = await ana.request('PATCH', `${path}/members/${ben.user.id}`, {
        role: 'admin',
      })
      const remove = await ana.request('DELETE', `${path}/members/${ben.user.id}`)
      const rename = await ana.request('PATCH', path, { title: 'Ours' })
      const deleted = await ana.request('DELETE', path)

      expectError(add, 'forbidden')
      expectError(promote, 'forbidden')
      expectError(remove, 'forbidden')
      expectError(rename, 'forbidden')
      expectError(deleted, 'forbidden')
    })

    it('hides the chat for the user who leaves', async () => {
      const ana = await newUser('leave')
      const ben = await newUser('leave')
      const { conversation } = (await createDirect(ana, ben)).body
      const path = `/api/conversations/${conversation.id}/members/${ana.user.id}`

      expect((await ana.request('DELETE', path)).status).toBe(204)
      expect(await listIds(ana)).not.toContain(conversation.id)
      expect(await listIds(ben)).toContain(conversation.id)
    })

    it('shows a left chat again when started again', async () => {
      const ana = await newUser('leave')
      const ben = await newUser('leave')
      const { conversation } = (await createDirect(ana, ben)).body
      await ana.request('DELETE', `/api/conversations/${conversation.id}/members/${ana.user.id}`)
      const again = await createDirect(ana, ben)

      expect(again.status).toBe(200)
      expect(again.body.conversation.id).toBe(conversation.id)
      expect(await listIds(ana)).toContain(conversation.id)
    })
  })

  describe('groups', () => {
    it('makes the creator admin', async () => {
      const ana = await newUser('group')
      const ben = await newUser('group')
      const response = await ana.request<{ conversation: Conversation }>(
        'POST',
        '/api/conversations',
        { kind: 'group', title: 'Book club', memberIds: [ben.user.id] },
      )
      const { conversation } = response.body

      expect(response.status).toBe(201)
      expect(conversation.kind).toBe('group')
      expect(conversation.title).toBe('Book club')
      expect(roleOf(conversation, ana.user.id)).toBe('admin')
      expect(roleOf(conversation, ben.user.id)).toBe('member')
      expect(conversation.members).toHaveLength(2)
    })

    it('returns ISO 8601 times', async () => {
      const ana = await newUser('group')
      const group = await createGroup(ana, [])

      expect(new Date(group.createdAt).toISOString()).toBe(group.createdAt)
      expect(new Date(group.lastActivityAt).toISOString()).toBe(group.lastActivityAt)
    })

    it('adds the creator even when not named', async () => {
      const ana = await newUser('group')
      const group = await createGroup(ana, [])

      expect(group.members.map((member) => member.user.id)).toEqual([ana.user.id])
    })

    it('requires a title', async () => {
      const ana = await newUser('group')
      const response = await ana.request('POST', '/api/conversations', {
        kind: 'group',
        memberIds: [],
      })

      expectError(response, 'invalid_input')
    })

    it('rejects an unknown member', async () => {
      const ana = await newUser('group')
      const response = await ana.request('POST', '/api/conversations', {
        kind: 'group',
        title: 'Ghosts',
        memberIds: [UNKNOWN_ID],
      })

      expectError(response, 'invalid_input')
    })

    it('is visible to a member', async () => {
      const ana = await newUser('group')
      const ben = await newUser('group')
      const group = await createGroup(ana, [ben])
      const response = await ben.request<{ conversation: Conversation }>(
        'GET',
        `/api/conversations/${group.id}`,
      )

      expect(response.status).toBe(200)
      expect(response.body.conversation.id).toBe(group.id)
    })

    it('is not found for a non-member', async () => {
      const ana = await newUser('group')
      const eve = await newUser('group')
      const group = await createGroup(ana, [])
      const path = `/api/conversations/${group.id}`

      expectError(await eve.request('GET', path), 'not_found')
      expectError(await eve.request('PATCH', path, { title: 'Mine' }), 'not_found')
      expectError(await eve.request('DELETE', path), 'not_found')
      expectError(
        await eve.request('POST', `${path}/members`, { userId: eve.user.id }),
        'not_found',
      )
    })

    it('is not found under an unknown id', async () => {
      const ana = await newUser('group')

      expectError(await ana.request('GET', `/api/conversations/${UNKNOWN_ID}`), 'not_found')
    })

    it('requires a session', async () => {
      const ana = await newUser('group')
      const group = await createGroup(ana, [])

      expectError(await send('GET', `/api/conversations/${group.id}`), 'not_authenticated')
    })

    it('is renamed by an admin', async () => {
      const ana = await newUser('rename')
      const ben = await newUser('rename')
      const group = await createGroup(ana, [ben])
      const response = await ana.request<{ conversation: Conversation }>(
        'PATCH',
        `/api/conversations/${group.id}`,
        { title: 'New title' },
      )
      const seen = await ben.request<{ conversation: Conversation }>(
        'GET',
        `/api/conversations/${group.id}`,
      )

      expect(response.status).toBe(200)
      expect(response.body.conversation.title).toBe('New title')
      expect(seen.body.conversation.title).toBe('New title')
    })

    it('is not renamed by a member', async () => {
      const ana = await newUser('rename')
      const ben = await newUser('rename')
      const group = await createGroup(ana, [ben], 'Original')
      const response = await ben.request('PATCH', `/api/conversations/${group.id}`, {
        title: 'Hijacked',
      })
      const seen = await ana.request<{ conversation: Conversation }>(
        'GET',
        `/api/conversations/${group.id}`,
      )

      expectError(response, 'forbidden')
      expect(seen.body.conversation.title).toBe('Original')
    })
  })

  describe('group members', () => {
    it('are added by an admin', async () => {
      const ana = await newUser('add')
      const ben = await newUser('add')
      const group = await createGroup(ana, [])
      const response = await ana.request<{ conversation: Conversation }>(
        'POST',
        `/api/conversations/${group.id}/members`,
        { userId: ben.user.id },
      )

      expect(response.status).toBe(201)
      expect(roleOf(response.body.conversation, ben.user.id)).toBe('member')
      expect((await ben.request('GET', `/api/conversations/${group.id}`)).status).toBe(200)
    })

    it('are added again as a no-op', async () => {
      const ana = await newUser('add')
      const ben = await newUser('add')
      const group = await createGroup(ana, [ben])
      const response = await ana.request<{ conversation: Conversation }>(
        'POST',
        `/api/conversations/${group.id}/members`,
        { userId: ben.user.id },
      )

      expect(response.status).toBe(200)
      expect(response.body.conversation.members).toEqual(group.members)
    })

    it('are not added by a member', async () => {
      const ana = await newUser('add')
      const ben = await newUser('add')
      const cid = await newUser('add')
      const group = await createGroup(ana, [ben])
      const response = await ben.request('POST', `/api/conversations/${group.id}/members`, {
        userId: cid.user.id,
      })

      expectError(response, 'forbidden')
      expectError(await cid.request('GET', `/api/conversations/${group.id}`), 'not_found')
    })

    it('must exist to be added', async () => {
      const ana = await newUser('add')
      const group = await createGroup(ana, [])
      const response = await ana.request('POST', `/api/conversations/${group.id}/members`, {
        userId: UNKNOWN_ID,
      })

      expectError(response, 'not_found')
    })

    it('get roles from an admin', async () => {
      const ana = await newUser('role')
      const ben = await newUser('role')
      const group = await createGroup(ana, [ben], 'Before')
      const path = `/api/conversations/${group.id}/members/${ben.user.id}`

      const promoted = await ana.request<{ conversation: Conversation }>('PATCH', path, {
        role: 'admin',
      })
      expect(promoted.status).toBe(200)
      expect(roleOf(promoted.body.conversation, ben.user.id)).toBe('admin')
      const rename = { title: 'By Ben' }
      expect((await ben.request('PATCH', `/api/conversations/${group.id}`, rename)).status).toBe(
        200,
      )

      const demoted = await ana.request<{ conversation: Conversation }>('PATCH', path, {
        role: 'member',
      })
      expect(demoted.status).toBe(200)
      expect(roleOf(demoted.body.conversation, ben.user.id)).toBe('member')
      expectError(await ben.request('PATCH', `/api/conversations/${group.id}`, rename), 'forbidden')
    })

    it('get no roles from a member', async () => {
      const ana = await newUser('role')
      const ben = await newUser('role')
      const group = await createGroup(ana, [ben])
      const response = await ben.request(
        'PATCH',
        `/api/conversations/${group.id}/members/${ben.user.id}`,
        { role: 'admin' },
      )

      expectError(response, 'forbidden')
    })

    it('must belong to get a role', async () => {
      const ana = await newUser('role')
      const eve = await newUser('role')
      const group = await createGroup(ana, [])
      const response = await ana.request(
        'PATCH',
        `/api/conversations/${group.id}/members/${eve.user.id}`,
        { role: 'admin' },
      )

      expectError(response, 'not_found')
    })

    it('rejects an unknown role', async () => {
      const ana = await newUser('role')
      const ben = await newUser('role')
      const group = await createGroup(ana, [ben])
      const response = await ana.request(
        'PATCH',
        `/api/conversations/${group.id}/members/${ben.user.id}`,
        { role: 'owner' },
      )

      expectError(response, 'invalid_input')
    })

    it('are removed by an admin', async () => {
      const ana = await newUser('remove')
      const ben = await newUser('remove')
      const group = await createGroup(ana, [ben])
      const response = await ana.request(
        'DELETE',
        `/api/conversations/${group.id}/members/${ben.user.id}`,
      )
      const seen = await ana.request<{ conversation: Conversation }>(
        'GET',
        `/api/conversations/${group.id}`,
      )

      expect(response.status).toBe(204)
      expect(roleOf(seen.body.conversation, ben.user.id)).toBeUndefined()
      expectError(await ben.request('GET', `/api/conversations/${group.id}`), 'not_found')
      expect(await listIds(ben)).not.toContain(group.id)
    })

    it('are not removed by a member', async () => {
      const ana = await newUser('remove')
      const ben = await newUser('remove')
      const cid = await newUser('remove')
      const group = await createGroup(ana, [ben, cid])
      const response = await ben.request(
        'DELETE',
        `/api/conversations/${group.id}/members/${cid.user.id}`,
      )

      expectError(response, 'forbidden')
      expect((await cid.request('GET', `/api/conversations/${group.id}`)).status).toBe(200)
    })

    it('must belong to be removed', async () => {
      const ana = await newUser('remove')
      const eve = await newUser('remove')
      const group = await createGroup(ana, [])
      const response = await ana.request(
        'DELETE',
        `/api/conversations/${group.id}/members/${eve.user.id}`,
      )

      expectError(response, 'not_found')
    })

    it('can leave', async () => {
      const ana = await newUser('leave')
      const ben = await newUser('leave')
      const group = await createGroup(ana, [ben])
      const response = await ben.request(
        'DELETE',
        `/api/conversations/${group.id}/members/${ben.user.id}`,
      )

      expect(response.status).toBe(204)
      expectError(await ben.request('GET', `/api/conversations/${group.id}`), 'not_found')
      expect(await listIds(ben)).not.toContain(group.id)
    })

    it('hand admin to the longest-standing member', async () => {
      const ana = await newUser('succession')
      const ben = await newUser('succession')
      const cid = await newUser('succession')
      const group = await createGroup(ana, [ben])
      await ana.request('POST', `/api/conversations/${group.id}/members`, { userId: cid.user.id })

      const left = await ana.request(
        'DELETE',
        `/api/conversations/${group.id}/members/${ana.user.id}`,
      )
      const seen = await ben.request<{ conversation: Conversation }>(
        'GET',
        `/api/conversations/${group.id}`,
      )

      expect(left.status).toBe(204)
      expect(roleOf(seen.body.conversation, ana.user.id)).toBeUndefined()
      expect(roleOf(seen.body.conversation, ben.user.id)).toBe('admin')
      expect(roleOf(seen.body.conversation, cid.user.id)).toBe('member')
    })

    it('keep their roles when another admin remains', async () => {
      const ana = await newUser('succession')
      const ben = await newUser('succession')
      const cid = await newUser('succession')
      const group = await createGroup(ana, [ben, cid])
      await ana.request('PATCH', `/api/conversations/${group.id}/members/${cid.user.id}`, {
        role: 'admin',
      })

      await ana.request('DELETE', `/api/conversations/${group.id}/members/${ana.user.id}`)
      const seen = await ben.request<{ conversation: Conversation }>(
        'GET',
        `/api/conversations/${group.id}`,
      )

      expect(roleOf(seen.body.conversation, ben.user.id)).toBe('member')
      expect(roleOf(seen.body.conversation, cid.user.id)).toBe('admin')
    })
  })

  describe('deleting a group', () => {
    it('makes it not found for every member', async () => {
      const ana = await newUser('delete')
      const ben = await newUser('delete')
      const group = await createGroup(ana, [ben])
      const path = `/api/conversations/${group.id}`

      expect((await ana.request('DELETE', path)).status).toBe(204)
      expectError(await ana.request('GET', path), 'not_found')
      expectError(await ben.request('GET', path), 'not_found')
      expect(await listIds(ana)).not.toContain(group.id)
      expect(await listIds(ben)).not.toContain(group.id)
    })

    it('is for admins only', async () => {
      const ana = await newUser('delete')
      const ben = await newUser('delete')
      const group = await createGroup(ana, [ben])
      const path = `/api/conversations/${group.id}`

      expectError(await ben.request('DELETE', path), 'forbidden')
      expect((await ben.request('GET', path)).status).toBe(200)
    })
  })

  describe('errors', () => {
    it('returns not_found for an unknown endpoint', async () => {
      const ana = await newUser('errors')

      expectError(await ana.request('GET', '/api/nothing-here'), 'not_found')
      expectError(await send('POST', '/api/auth/nothing-here'), 'not_found')
    })

    it('rejects a body over 64 KiB', async () => {
      const body = JSON.stringify({ username: 'big', password: 'p'.repeat(64 * 1024) })

      expectError(await sendRaw('/api/auth/signup', body), 'too_large')
    })

    it('rejects a streamed body over 64 KiB', async () => {
      const chunk = new TextEncoder().encode(' '.repeat(1024))
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 65; i++) controller.enqueue(chunk)
          controller.close()
        },
      })

      expectError(await sendRaw('/api/auth/signup', stream), 'too_large')
    })

    it('accepts a body just under 64 KiB', async () => {
      const padding = ' '.repeat(60 * 1024)
      const body = `{"username": "${uniqueName('fits')}",${padding}"password": "${PASSWORD}"}`

      expect((await sendRaw('/api/auth/signup', body)).status).toBe(201)
    })

    // Regression: Postgres text cannot hold U+0000, so these requests failed with 500.
    it('rejects a NUL character in a body', async () => {
      const ana = await newUser('nul')
      const login = await send('POST', '/api/auth/login', {
        body: { username: 'ana\u0000', password: PASSWORD },
      })
      const me = await ana.request('PATCH', '/api/me', { displayName: 'Ana\u0000' })
      const group = await ana.request('POST', '/api/conversations', {
        kind: 'group',
        title: 'Null\u0000',
        memberIds: [],
      })

      expectError(login, 'invalid_input')
      expectError(me, 'invalid_input')
      expectError(group, 'invalid_input')
    })

    it('rejects a NUL character in the search', async () => {
      const ana = await newUser('nul')

      expectError(await ana.request('GET', '/api/users?q=a%00'), 'invalid_input')
    })

    it('returns not_found for a malformed path id', async () => {
      const ana = await newUser('nul')
      const group = await createGroup(ana, [])
      const members = `/api/conversations/${group.id}/members`

      expectError(await ana.request('GET', '/api/conversations/%00abcdefgh'), 'not_found')
      expectError(await ana.request('GET', '/api/conversations/Not%20An%20Id'), 'not_found')
      expectError(await ana.request('PATCH', `${members}/%00`, { role: 'admin' }), 'not_found')
      expectError(await ana.request('DELETE', `${members}/%00`), 'not_found')
    })

    it('returns internal when a store fails', async () => {
      const ana = await newUser('internal')
      const search = vi
        .spyOn(server.server.services.users, 'search')
        .mockRejectedValueOnce(new Error('simulated database failure'))
      try {
        const response = await ana.request<{ error: Record<string, unknown> }>(
          'GET',
          '/api/users?q=anyone',
        )

        expect(response.status).toBe(500)
        expect(response.body.error.code).toBe('internal')
        expect(response.body.error.message).toEqual(expect.any(String))
        expect(response.body.error.requestId).toMatch(ID_PATTERN)
        expect(JSON.stringify(response.body)).not.toContain('simulated database failure')
      } finally {
        search.mockRestore()
      }
    })

    it('returns rate_limited with Retry-After', async () => {
      const limited = await startTestServer({
        database: kind,
        config: { authAttemptsPerMinute: 3 },
      })
      try {
        const username = uniqueName('limited')
        const credentials = { body: { username, password: PASSWORD } }
        const attempt = () => requestJson(limited.url, 'POST', '/api/auth/login', credentials)

        const created = await requestJson(limited.url, 'POST', '/api/auth/signup', credentials)
        const second = await attempt()
        const third = await attempt()
        const fourth = await attempt()
        const retryAfter = Number(fourth.headers.get('retry-after'))

        expect(created.status).toBe(201)
        expect(second.status).toBe(200)
        expect(third.status).toBe(200)
        expectError(fourth, 'rate_limited')
        expect(Number.isInteger(retryAfter)).toBe(true)
        expect(retryAfter).toBeGreaterThanOrEqual(1)
        expect(retryAfter).toBeLessThanOrEqual(60)
      } finally {
        await limited.stop()
        await limited.database.drop()
      }
    })
  })

  describe('operations', () => {
    it('returns 200 from /healthz', async () => {
      const response = await fetch(`${server.url}/healthz`)

      expect(response.status).toBe(200)
    })

    it('returns 200 from /readyz', async () => {
      const response = await fetch(`${server.url}/readyz`)

      expect(response.status).toBe(200)
    })

    it('serves parley_ metrics', async () => {
      await send('GET', '/api/me')
      const response = await fetch(`${server.url}/metrics`)
      const text = await response.text()

      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/plain')
      expect(text).toContain('# TYPE parley_http_requests_total counter')
      expect(text).toMatch(/parley_http_requests_total\{[^}]*status="401"[^}]*\} \d+/)
    })
  })
})

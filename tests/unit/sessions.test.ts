import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UserId } from '../../shared/ids.ts'
import { SessionStore } from '../../sync-server/auth/sessions.ts'
import { SESSION_LIFETIME_MS, sessionIdOf } from '../../sync-server/auth/session-token.ts'
import { type OpenDatabase, openDatabase } from '../../sync-server/persistence/database.ts'
import { UserStore } from '../../sync-server/persistence/users.ts'
import { uniqueName } from '../helpers/clients.ts'
import { createPgliteDatabase, type TestDatabase } from '../helpers/databases.ts'

const DAY_MS = 24 * 60 * 60 * 1000

describe('SessionStore', () => {
  let database: TestDatabase
  let opened: OpenDatabase
  let sessions: SessionStore
  let users: UserStore

  beforeAll(async () => {
    database = createPgliteDatabase()
    opened = await openDatabase({ dataDir: database.dataDir })
    sessions = new SessionStore(opened.db)
    users = new UserStore(opened.db)
  })
  afterAll(async () => {
    await opened.close()
    await database.drop()
  })

  async function createUser(): Promise<UserId> {
    const result = await users.create({
      username: uniqueName('sess'),
      displayName: 'Session Owner',
      passwordHash: 'unused',
    })
    if (!result.ok) throw new Error('creating the test user failed: the username is taken')
    return result.user.id
  }

  function storedSession(id: string) {
    return opened.db
      .selectFrom('sessions')
      .select(['id', 'user_id', 'kind', 'expires_at'])
      .where('id', '=', id)
      .executeTakeFirst()
  }

  it('stores the hash of the token, not the token', async () => {
    const userId = await createUser()
    const { token, session } = await sessions.create(userId, 'cookie')

    expect(session.id).toBe(sessionIdOf(token))
    expect(await storedSession(session.id)).toBeDefined()
    expect(await storedSession(token)).toBeUndefined()
  })

  it('sets the expiry a lifetime after creation', async () => {
    const userId = await createUser()
    const now = new Date('2026-03-01T12:00:00.000Z')
    const { session } = await sessions.create(userId, 'token', now)

    const row = await storedSession(session.id)
    expect(session.expiresAt.getTime()).toBe(now.getTime() + SESSION_LIFETIME_MS)
    expect(row?.expires_at.getTime()).toBe(now.getTime() + SESSION_LIFETIME_MS)
    expect(row?.kind).toBe('token')
    expect(row?.user_id).toBe(userId)
  })

  it('validates a fresh token without writing', async () => {
    const userId = await createUser()
    const now = new Date()
    const { token, session } = await sessions.create(userId, 'cookie', now)

    const validated = await sessions.validate(token, new Date(now.getTime() + DAY_MS))
    expect(validated).toEqual(session)
    expect(validated?.renewed).toBeUndefined()
    const row = await storedSession(session.id)
    expect(row?.expires_at.getTime()).toBe(session.expiresAt.getTime())
  })

  it('renews a session inside the renew window', async () => {
    const userId = await createUser()
    const now = new Date()
    const { token, session } = await sessions.create(
      userId,
      'token',
      new Date(now.getTime() - 20 * DAY_MS),
    )

    const validated = await sessions.validate(token, now)
    expect(validated?.renewed).toBe(true)
    expect(validated?.expiresAt.getTime()).toBe(now.getTime() + SESSION_LIFETIME_MS)
    const row = await storedSession(session.id)
    expect(row?.expires_at.getTime()).toBe(now.getTime() + SESSION_LIFETIME_MS)
  })

  it('deletes an expired session', async () => {
    const userId = await createUser()
    const now = new Date()
    const { token, session } = await sessions.create(
      userId,
      'cookie',
      new Date(now.getTime() - 31 * DAY_MS),
    )

    expect(await sessions.validate(token, now)).toBeUndefined()
    expect(await storedSession(session.id)).toBeUndefined()
  })

  it('rejects an unknown token', async () => {
    expect(await sessions.validate('a'.repeat(32))).toBeUndefined()
  })

  it('rejects a revoked token', async () => {
    const userId = await createUser()
    const { token, session } = await sessions.create(userId, 'cookie')

    await sessions.revoke(session.id)
    expect(await sessions.validate(token)).toBeUndefined()
    expect(await storedSession(session.id)).toBeUndefined()
  })

  it('revokes only the given session', async () => {
    const userId = await createUser()
    const first = await sessions.create(userId, 'cookie')
    const second = await sessions.create(userId, 'token')

    await sessions.revoke(first.session.id)
    expect(await sessions.validate(second.token)).toEqual(second.session)
  })
})

import type { Kysely } from 'kysely'
import type { UserId } from '../../shared/ids.ts'
import type { Database } from '../persistence/schema.ts'
import {
  SESSION_LIFETIME_MS,
  checkExpiry,
  generateSessionToken,
  sessionIdOf,
} from './session-token.ts'

/** A valid session and its user. */
export interface Session {
  id: string
  userId: UserId
  kind: 'cookie' | 'token'
  expiresAt: Date
  /** Set when validation extended the expiry, so a cookie carrying the token is sent again. */
  renewed?: boolean
}

/** Sessions stored in the database, following Lucia's design: only token hashes are stored. */
export class SessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a session and returns it with the token to hand to the client. */
  async create(
    userId: UserId,
    kind: Session['kind'],
    now = new Date(),
  ): Promise<{ token: string; session: Session }> {
    const token = generateSessionToken()
    const session: Session = {
      id: sessionIdOf(token),
      userId,
      kind,
      expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS),
    }
    await this.db
      .insertInto('sessions')
      .values({ id: session.id, user_id: userId, kind, expires_at: session.expiresAt })
      .execute()
    return { token, session }
  }

  /** Returns the session of a token, renewing it when due; undefined when missing or expired. */
  async validate(token: string, now = new Date()): Promise<Session | undefined> {
    const id = sessionIdOf(token)
    const row = await this.db
      .selectFrom('sessions')
      .select(['id', 'user_id', 'kind', 'expires_at'])
      .where('id', '=', id)
      .executeTakeFirst()
    if (!row) return undefined

    const expiry = checkExpiry(row.expires_at, now)
    switch (expiry.status) {
      case 'expired':
        await this.db.deleteFrom('sessions').where('id', '=', id).execute()
        return undefined
      case 'renew':
        await this.db
          .updateTable('sessions')
          .set({ expires_at: expiry.expiresAt })
          .where('id', '=', id)
          .execute()
        return {
          id,
          userId: row.user_id as UserId,
          kind: row.kind,
          expiresAt: expiry.expiresAt,
          renewed: true,
        }
      case 'valid':
        return { id, userId: row.user_id as UserId, kind: row.kind, expiresAt: row.expires_at }
    }
  }

  /** Revokes one session. */
  async revoke(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', id).execute()
  }
}

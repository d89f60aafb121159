import type { Kysely, Selectable } from 'kysely'
import type { User } from '../../shared/api.ts'
import { newId, type UserId } from '../../shared/ids.ts'
import type { Database, UsersTable } from './schema.ts'

const UNIQUE_VIOLATION = '23505'

/** Result of creating a user: the user, or a conflict on the name. */
export type CreateUserResult = { ok: true; user: User } | { ok: false; reason: 'username_taken' }

/** Returns the API shape of a user row. */
export function toUser(
  row: Pick<Selectable<UsersTable>, 'id' | 'username' | 'display_name'>,
): User {
  return { id: row.id as UserId, username: row.username, displayName: row.display_name }
}

/** User accounts. */
export class UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a user; the unique index on the lower-case name decides between concurrent signups. */
  async create(input: {
    username: string
    displayName: string
    passwordHash: string
  }): Promise<CreateUserResult> {
    const row = {
      id: newId(),
      username: input.username,
      username_key: input.username.toLowerCase(),
      display_name: input.displayName,
      password_hash: input.passwordHash,
    }
    try {
      await this.db.insertInto('users').values(row).execute()
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        return { ok: false, reason: 'username_taken' }
      }
      throw error
    }
    return { ok: true, user: toUser(row) }
  }

  /** Finds a user and its password hash by name, regardless of case. */
  async findForLogin(username: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'password_hash'])
      .where('username_key', '=', username.toLowerCase())
      .executeTakeFirst()
    return row && { user: toUser(row), passwordHash: row.password_hash }
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name'])
      .where('id', '=', id)
      .executeTakeFirst()
    return row && toUser(row)
  }

  /** Returns which of the given ids exist. */
  async existingIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const rows = await this.db.selectFrom('users').select('id').where('id', 'in', ids).execute()
    return new Set(rows.map((row) => row.id))
  }

  async updateDisplayName(id: UserId, displayName: string): Promise<User | undefined> {
    const row = await this.db
      .updateTable('users')
      .set({ display_name: displayName })
      .where('id', '=', id)
      .returning(['id', 'username', 'display_name'])
      .executeTakeFirst()
    return row && toUser(row)
  }

  /** Case-insensitive prefix search on username or display name, at most `limit` users. */
  async search(query: string, excludeId: UserId, limit = 20): Promise<User[]> {
    const pattern = `${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'display_name'])
      .where('id', '!=', excludeId)
      .where((eb) =>
        eb.or([
          eb('username_key', 'like', pattern),
          eb(eb.fn('lower', ['display_name']), 'like', pattern),
        ]),
      )
      .orderBy('username_key')
      .limit(limit)
      .execute()
    return rows.map(toUser)
  }
}

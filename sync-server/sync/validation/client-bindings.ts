import type { Kysely } from 'kysely'
import type { Database } from '../../persistence/schema.ts'

/** Owner recorded for the client ids of the server's own writes. */
export const SERVER_OWNER = 'server'

/** Bindings of Yjs client ids to their owners, per document. */
export interface ClientBindingStore {
  /** Returns the owners of a document's bound client ids. */
  owners(documentName: string): Promise<Map<number, string>>
  /** Binds client ids to an owner; returns the ids that another owner has already. */
  bind(documentName: string, clients: number[], owner: string): Promise<number[]>
  /** Forgets what is cached of a document. */
  forget(documentName: string): void
}

/**
 * Binds Yjs client ids to users, per document, in the database so that every instance agrees.
 * The first user to write with a client id owns it; the unique key decides between races.
 */
export class ClientBindings implements ClientBindingStore {
  private readonly cache = new Map<string, Map<number, string>>()

  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the owners of a document's bound client ids, loading them once per document. */
  async owners(documentName: string): Promise<Map<number, string>> {
    const cached = this.cache.get(documentName)
    if (cached) return cached
    const rows = await this.db
      .selectFrom('client_ids')
      .select(['client_id', 'user_id'])
      .where('document_name', '=', documentName)
      .execute()
    const owners = new Map(rows.map((row) => [row.client_id, row.user_id]))
    this.cache.set(documentName, owners)
    return owners
  }

  /**
   * Binds client ids to a user; returns the ids that another owner has already, which the
   * caller must refuse.
   */
  async bind(documentName: string, clients: number[], owner: string): Promise<number[]> {
    const owners = await this.owners(documentName)
    const unknown = clients.filter((client) => !owners.has(client))
    if (unknown.length > 0) {
      await this.db
        .insertInto('client_ids')
        .values(
          unknown.map((client) => ({
            document_name: documentName,
            client_id: client,
            user_id: owner,
          })),
        )
        .onConflict((oc) => oc.columns(['document_name', 'client_id']).doNothing())
        .execute()
      const rows = await this.db
        .selectFrom('client_ids')
        .select(['client_id', 'user_id'])
        .where('document_name', '=', documentName)
        .where('client_id', 'in', unknown)
        .execute()
      for (const row of rows) owners.set(row.client_id, row.user_id)
    }
    return clients.filter((client) => owners.get(client) !== owner)
  }

  /** Forgets the cached bindings of a document, after it is unloaded or removed. */
  forget(documentName: string): void {
    this.cache.delete(documentName)
  }
}

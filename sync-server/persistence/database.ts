import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely'
import pg from 'pg'
import { acquireDataDirLock } from './data-dir-lock.ts'
import { migrateToLatest } from './migrations.ts'
import type { Database } from './schema.ts'

const INT8_OID = 20

/** An open database with its kind, for logs and health checks. */
export interface OpenDatabase {
  db: Kysely<Database>
  kind: 'postgres' | 'pglite'
  /** Location of the data: the Postgres host and database, or the PGlite directory. */
  location: string
  close(): Promise<void>
}

/**
 * Opens Postgres when a URL is given, else the embedded PGlite database under dataDir,
 * and applies pending migrations. Both drivers parse int8 as a JavaScript number.
 */
export async function openDatabase(options: {
  databaseUrl?: string
  dataDir: string
  /**
   * Receives errors of pool connections, idle or in use, such as a reset by the server. The
   * query in progress fails with the same error, and the pool drops the connection.
   */
  onConnectionError?: (error: Error) => void
}): Promise<OpenDatabase> {
  const opened = options.databaseUrl
    ? openPostgres(options.databaseUrl, options.onConnectionError ?? (() => {}))
    : await openPglite(options.dataDir)
  try {
    await migrateToLatest(opened.db as Kysely<unknown>)
  } catch (error) {
    await opened.close()
    throw error
  }
  return opened
}

function openPostgres(
  databaseUrl: string,
  onConnectionError: (error: Error) => void,
): OpenDatabase {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? Number
          : (pg.types.getTypeParser(oid, format) as (
              value: string,
            ) => unknown)) as typeof pg.types.getTypeParser,
    },
  })
  // Without a listener, a connection reset by the server would end the process. The pool
  // listens on idle connections only, so each connection also gets a listener of its own
  // for the time a query uses it. The pool replaces a failed connection on the next query.
  pool.on('error', onConnectionError)
  pool.on('connect', (client) => client.on('error', onConnectionError))
  const url = new URL(databaseUrl)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    kind: 'postgres',
    location: `${url.hostname}:${url.port || 5432}${url.pathname}`,
    close: () => db.destroy(),
  }
}

async function openPglite(dataDir: string): Promise<OpenDatabase> {
  const lock = acquireDataDirLock(dataDir)
  const directory = path.join(dataDir, 'pglite')
  try {
    const pglite = await PGlite.create(directory, {
      parsers: { [INT8_OID]: (value: string) => Number(value) },
    })
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) })
    return {
      db,
      kind: 'pglite',
      location: directory,
      close: async () => {
        await db.destroy()
        lock.release()
      },
    }
  } catch (error) {
    lock.release()
    throw error
  }
}

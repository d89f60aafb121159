import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OpenDatabase, openDatabase } from '../../sync-server/persistence/database.ts'
import { createPostgresDatabase, type TestDatabase } from '../helpers/databases.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'

// A connection that fails while a query uses it emits 'error' on the pg client. Without a
// listener that event is an uncaught exception, which would end the server (and fail this
// run, since vitest reports uncaught exceptions).
describe('Postgres connection lost during a query', () => {
  let database: TestDatabase
  let proxy: TcpProxy
  let opened: OpenDatabase
  const errors: Error[] = []

  beforeAll(async () => {
    database = await createPostgresDatabase()
    const target = new URL(database.databaseUrl ?? '')
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432))
    const proxied = new URL(target)
    proxied.host = `127.0.0.1:${proxy.port}`
    opened = await openDatabase({
      databaseUrl: proxied.toString(),
      dataDir: database.dataDir,
      onConnectionError: (error) => errors.push(error),
    })
  })

  afterAll(async () => {
    await opened?.close()
    await proxy?.close()
    await database?.drop()
  })

  it('fails the query and keeps the process', async () => {
    const query = sql`select pg_sleep(5)`.execute(opened.db)
    // Gives the query time to reach the server before the link is cut.
    await new Promise((resolve) => setTimeout(resolve, 300))
    proxy.cut()

    await expect(query).rejects.toThrow()
    expect(errors.length).toBeGreaterThan(0)

    proxy.restore()
    const result = await sql<{ one: number }>`select 1 as one`.execute(opened.db)
    expect(result.rows).toEqual([{ one: 1 }])
  })
})

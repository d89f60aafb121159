import fs from 'node:fs'
import pg from 'pg'
import { Redis } from 'ioredis'
import { openDatabase } from '../../sync-server/persistence/database.ts'
import { PGLITE_TEMPLATE_DIR, POSTGRES_ADMIN_URL, REDIS_URL } from './databases.ts'

/**
 * Checks that the real Postgres and Redis answer, failing the run otherwise, and builds the
 * PGlite template once, since a fresh PGlite initdb costs seconds.
 */
export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  try {
    await client.connect()
    await client.query('select 1')
  } catch (error) {
    throw new Error(`Postgres at ${POSTGRES_ADMIN_URL} does not answer`, { cause: error })
  } finally {
    await client.end().catch(() => {})
  }

  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    throw new Error(`Redis at ${REDIS_URL} does not answer`, { cause: error })
  } finally {
    redis.disconnect()
  }

  fs.rmSync(PGLITE_TEMPLATE_DIR, { recursive: true, force: true })
  const template = await openDatabase({ dataDir: PGLITE_TEMPLATE_DIR })
  await template.close()
}

import fs from 'node:fs'
import pg from 'pg'
import { Redis } from 'ioredis'
import { openDatabase } from '../../sync-server/persistence/database.ts'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { POSTGRES_ADMIN_URL, REDIS_URL } from './databases.ts'

/**
 * Checks that the real Postgres and Redis answer, failing the run otherwise, and builds the
 * PGlite template once, since a fresh PGlite initdb costs seconds.
 */
export default async function setup(project: TestProject): Promise<() => void> {
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

  // Each run builds its own template, so that concurrent runs cannot disturb each other.
  const templateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-pglite-template-'))
  const template = await openDatabase({ dataDir: templateDir })
  await template.close()
  project.provide('pgliteTemplateDir', templateDir)
  return () => fs.rmSync(templateDir, { recursive: true, force: true })
}

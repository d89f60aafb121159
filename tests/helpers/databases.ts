import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { inject } from 'vitest'

/** Admin connection of the machine's Postgres; tests create their own databases in it. */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplateDir: string
  }
}

/** Directory of this run's PGlite template with migrations applied, made by the global setup. */
function pgliteTemplateDir(): string {
  return inject('pgliteTemplateDir')
}

/** A database for one test server. */
export interface TestDatabase {
  kind: 'pglite' | 'postgres'
  /** Set for Postgres. */
  databaseUrl?: string
  /** Data directory; for PGlite it holds the database. */
  dataDir: string
  drop(): Promise<void>
}

/** Creates a fresh Postgres database on the machine's server, named for the test. */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `parley_test_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-pg-'))
  return {
    kind: 'postgres',
    databaseUrl: url.toString(),
    dataDir,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
      await client.connect()
      try {
        await client.query(`drop database if exists ${name} with (force)`)
      } finally {
        await client.end()
      }
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Copies the migrated PGlite template into a fresh data directory. */
export function createPgliteDatabase(): TestDatabase {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-pglite-'))
  fs.cpSync(path.join(pgliteTemplateDir(), 'pglite'), path.join(dataDir, 'pglite'), {
    recursive: true,
  })
  return {
    kind: 'pglite',
    dataDir,
    drop: () => {
      fs.rmSync(dataDir, { recursive: true, force: true })
      return Promise.resolve()
    },
  }
}

/** Creates a database of the given kind. */
export function createDatabase(kind: 'pglite' | 'postgres'): Promise<TestDatabase> {
  return kind === 'postgres' ? createPostgresDatabase() : Promise.resolve(createPgliteDatabase())
}

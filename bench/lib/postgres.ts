import fs from 'node:fs'
import pg from 'pg'

/** Admin connection of the machine's Postgres, in which the suite creates its databases. */
export const POSTGRES_ADMIN_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Prefix of every database the suite creates; the suffix starts with the suite's pid. */
const DATABASE_PREFIX = 'parley_bench_'

/** A database of this run, dropped at the end. */
export interface BenchDatabase {
  name: string
  url: string
}

/**
 * One admin connection for the whole run: creates and drops the run's databases and reads
 * cluster-wide figures (backend pids, WAL position).
 */
export class PostgresAdmin {
  private readonly created = new Set<string>()

  private constructor(private readonly client: pg.Client) {}

  static async connect(): Promise<PostgresAdmin> {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
    await client.connect()
    return new PostgresAdmin(client)
  }

  /** Creates a database named parley_bench_<pid>_<label>. */
  async createDatabase(label: string): Promise<BenchDatabase> {
    const name = `${DATABASE_PREFIX}${process.pid}_${label}`.toLowerCase()
    await this.client.query(`drop database if exists ${name} with (force)`)
    await this.client.query(`create database ${name}`)
    this.created.add(name)
    const url = new URL(POSTGRES_ADMIN_URL)
    url.pathname = `/${name}`
    return { name, url: url.toString() }
  }

  /** Drops every database this run created. */
  async dropCreated(): Promise<void> {
    for (const name of this.created) {
      await this.client.query(`drop database if exists ${name} with (force)`)
    }
    this.created.clear()
  }

  /**
   * Drops databases left by earlier runs whose process is gone, as after a crash. A
   * database of a run that is still alive stays.
   */
  async dropAbandoned(): Promise<string[]> {
    const result = await this.client.query<{ datname: string }>(
      `select datname from pg_database where datname like $1`,
      [`${DATABASE_PREFIX.replaceAll('_', '\\_')}%`],
    )
    const dropped: string[] = []
    for (const { datname } of result.rows) {
      const pid = Number(/^parley_bench_(\d+)_/.exec(datname)?.[1])
      if (Number.isInteger(pid) && fs.existsSync(`/proc/${pid}`)) continue
      await this.client.query(`drop database if exists ${datname} with (force)`)
      dropped.push(datname)
    }
    return dropped
  }

  /** Returns the pids of the backends connected to a database. */
  async backendPids(database: string): Promise<number[]> {
    const result = await this.client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [database],
    )
    return result.rows.map((row) => Number(row.pid))
  }

  /** Returns the current WAL insert position, as text such as 0/16B3740. */
  async walPosition(): Promise<string> {
    const result = await this.client.query<{ lsn: string }>(
      'select pg_current_wal_lsn()::text as lsn',
    )
    return result.rows[0]?.lsn ?? '0/0'
  }

  /** Returns the WAL bytes written between two positions. */
  async walBytesBetween(from: string, to: string): Promise<number> {
    const result = await this.client.query<{ bytes: string }>(
      'select pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::text as bytes',
      [from, to],
    )
    return Number(result.rows[0]?.bytes ?? 0)
  }

  async version(): Promise<string> {
    const result = await this.client.query<{ server_version: string }>('show server_version')
    return result.rows[0]?.server_version ?? 'unknown'
  }

  async close(): Promise<void> {
    await this.client.end()
  }
}

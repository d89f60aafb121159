import fs from 'node:fs'
import pg from 'pg'

/** Admin connection of the machine's Postgres, in which the suite creates its databases. */
export const POSTGRES_ADMIN_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Prefix of every database the suite creates; the suffix starts with the suite's pid. */
const DATABASE_PREFIX = 'parley_bench_'

/** WAL bytes of a window by relation, and how many of them were full-page images. */
export interface WalByRelation {
  bytes: Map<string, number>
  fullPageImageBytes: number
}

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

  /**
   * Returns the WAL bytes written between two positions by relation of one database, read
   * with pg_walinspect (PostgreSQL 15 or later). Index and TOAST bytes count for their table.
   * Records without a block, such as commits, count as "(no relation)", and those of other
   * databases as "(other databases)". A record counts whole, full-page images included, for
   * the relation of its first block.
   */
  async walByRelation(from: string, to: string, database: BenchDatabase): Promise<WalByRelation> {
    await this.client.query('create extension if not exists pg_walinspect')
    const records = await this.client.query<{
      block_ref: string | null
      record_length: number
      fpi_length: number
    }>(
      'select block_ref, record_length, fpi_length from pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)',
      [from, to],
    )
    const oid = await this.client.query<{ oid: string }>(
      'select oid::text from pg_database where datname = $1',
      [database.name],
    )
    const databaseOid = oid.rows[0]?.oid ?? ''
    const names = await relationNames(database)

    const bytes = new Map<string, number>()
    let fullPageImageBytes = 0
    for (const record of records.rows) {
      fullPageImageBytes += Number(record.fpi_length)
      const block = /rel \d+\/(\d+)\/(\d+)/.exec(record.block_ref ?? '')
      const relation = !block
        ? '(no relation)'
        : block[1] !== databaseOid
          ? '(other databases)'
          : (names.get(block[2] ?? '') ?? '(system catalogs)')
      bytes.set(relation, (bytes.get(relation) ?? 0) + Number(record.record_length))
    }
    return { bytes, fullPageImageBytes }
  }

  async version(): Promise<string> {
    const result = await this.client.query<{ server_version: string }>('show server_version')
    return result.rows[0]?.server_version ?? 'unknown'
  }

  async close(): Promise<void> {
    await this.client.end()
  }
}

/**
 * Maps each relfilenode of a database to the table it belongs to: a table's own, its
 * indexes', its TOAST table's and that table's index.
 */
async function relationNames(database: BenchDatabase): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  try {
    const result = await client.query<{ file: string; relation: string }>(
      `select c.relfilenode::text as file, coalesce(owner.relname, base.relname) as relation
       from pg_class c
       left join pg_index i on i.indexrelid = c.oid
       join pg_class base on base.oid = coalesce(i.indrelid, c.oid)
       left join pg_class owner on owner.reltoastrelid = base.oid
       where c.relfilenode <> 0 and base.relnamespace <> 'pg_catalog'::regnamespace`,
    )
    return new Map(result.rows.map((row) => [row.file, row.relation]))
  } finally {
    await client.end()
  }
}

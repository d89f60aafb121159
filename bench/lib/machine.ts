import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ROOT } from './paths.ts'
import type { PostgresAdmin } from './postgres.ts'
import { readRedisInfo } from './redis-info.ts'

/** Packages whose installed versions each result file records. */
const PACKAGES = [
  '@hocuspocus/server',
  '@hocuspocus/provider',
  '@hocuspocus/extension-redis',
  '@y/websocket-server',
  'y-websocket',
  'yjs',
  'ws',
  '@automerge/automerge',
  '@electric-sql/pglite',
  'pg',
  'kysely',
]

/** Describes the machine: CPU, cores, memory, kernel, and the load when the run started. */
export function describeMachine(): Record<string, string | number> {
  const cpus = os.cpus()
  const [load1, load5, load15] = os.loadavg()
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    loadAverageAtStart: `${load1?.toFixed(2)} ${load5?.toFixed(2)} ${load15?.toFixed(2)}`,
    openFilesLimit: readOpenFilesLimit(),
  }
}

/** Returns the versions of Node, the compared packages, Postgres and Redis. */
export async function describeVersions(
  admin: PostgresAdmin,
  redisUrl: string,
): Promise<Record<string, string>> {
  const versions: Record<string, string> = { node: process.version }
  for (const name of PACKAGES) {
    try {
      const file = path.join(ROOT, 'node_modules', name, 'package.json')
      versions[name] = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version
    } catch {
      versions[name] = 'not installed'
    }
  }
  versions.postgres = await admin.version()
  versions.redis = (await readRedisInfo(redisUrl)).get('redis_version') ?? 'unknown'
  return versions
}

function readOpenFilesLimit(): string {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8')
    const match = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits)
    return match ? `${match[1]} soft, ${match[2]} hard` : 'unknown'
  } catch {
    return 'unknown'
  }
}

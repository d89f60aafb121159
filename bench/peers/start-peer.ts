import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort, type ManagedProcess, startNode, waitForHttp } from '../lib/child-process.ts'
import { ROOT } from '../lib/paths.ts'
import type { BenchDatabase, PostgresAdmin } from '../lib/postgres.ts'
import { readRedisInfo } from '../lib/redis-info.ts'
import type { BenchUser } from './parley-accounts.ts'
import { BENCH_SEGMENT_MESSAGES, FLUSH_DELAY, type PeerDefinition } from './peer-definitions.ts'

/** Redis of the machine; only the two-instance Parley peer uses it. */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** State that a peer keeps across repetitions: its database, data directories and accounts. */
export interface PeerState {
  definition: PeerDefinition
  database?: BenchDatabase
  dataDirs: string[]
  users: BenchUser[]
}

/** One server process of a running peer. */
export interface ServerInstance {
  process: ManagedProcess
  httpUrl: string
  /** URL that the peer's clients connect to. */
  syncUrl: string
  inspectPort: number
}

/** A peer whose server processes are running. */
export interface RunningPeer {
  state: PeerState
  instances: ServerInstance[]
  /** Pid of redis-server when the peer uses Redis. */
  redisPid?: number
  serverPids(): number[]
  /** Throws when a server process has exited, with the end of its output. */
  checkAlive(): void
  stop(): Promise<void>
}

/** Creates the peer's database and data directories, once per run. */
export async function preparePeerState(
  definition: PeerDefinition,
  admin: PostgresAdmin,
): Promise<PeerState> {
  const instances = definition.parley?.instances ?? 1
  const dataDirs = Array.from({ length: instances }, () =>
    fs.mkdtempSync(path.join(os.tmpdir(), `parley-bench-${definition.id}-`)),
  )
  const database =
    definition.parley?.database === 'postgres'
      ? await admin.createDatabase(definition.id.replaceAll('-', '_'))
      : undefined
  return { definition, database, dataDirs, users: [] }
}

/** Removes the peer's data directories; the run drops the databases. */
export function disposePeerState(state: PeerState): void {
  for (const dir of state.dataDirs) fs.rmSync(dir, { recursive: true, force: true })
}

/** Starts the peer's server processes, each on a free port, and waits until they respond. */
export async function startPeer(state: PeerState): Promise<RunningPeer> {
  const { definition } = state
  const instances: ServerInstance[] = []
  try {
    for (let index = 0; index < state.dataDirs.length; index++) {
      instances.push(await startInstance(state, index))
    }
  } catch (error) {
    await Promise.all(instances.map((instance) => instance.process.stop()))
    throw error
  }
  const redisPid =
    definition.parley?.instances === 2
      ? Number((await readRedisInfo(REDIS_URL)).get('process_id'))
      : undefined
  return {
    state,
    instances,
    redisPid,
    serverPids: () => instances.map((instance) => instance.process.pid),
    checkAlive: () => {
      for (const { process: server } of instances) {
        if (server.hasExited()) {
          throw new Error(`${server.name} exited unexpectedly:\n${server.outputTail()}`)
        }
      }
    },
    stop: async () => {
      await Promise.all(instances.map((instance) => instance.process.stop()))
    },
  }
}

async function startInstance(state: PeerState, index: number): Promise<ServerInstance> {
  const { definition } = state
  const port = await freePort()
  const inspectPort = await freePort()
  const nodeArgs = [`--inspect=127.0.0.1:${inspectPort}`]
  const env: Record<string, string | undefined> = { PORT: String(port), HOST: '127.0.0.1' }
  const httpUrl = `http://127.0.0.1:${port}`
  let script: string[]
  let healthPath = '/'
  let syncUrl = `ws://127.0.0.1:${port}`

  switch (definition.id) {
    case 'ws-floor':
    case 'ws-floor-batched':
      script = ['--import', 'tsx', 'bench/servers/raw-ws-server.ts']
      env.BATCH = definition.id === 'ws-floor' ? 'none' : 'tick'
      break
    case 'y-websocket':
      script = [path.join(ROOT, 'node_modules/@y/websocket-server/src/server.js')]
      break
    case 'hocuspocus':
      script = ['--import', 'tsx', 'bench/servers/hocuspocus-server.ts']
      env.FLUSH_DELAY = String(FLUSH_DELAY)
      break
    case 'parley-pglite':
    case 'parley-postgres':
    case 'parley-redis':
      script = ['--import', 'tsx', 'sync-server/main.ts']
      Object.assign(env, {
        DATA_DIR: state.dataDirs[index],
        DATABASE_URL: state.database?.url ?? '',
        REDIS_URL: definition.parley?.instances === 2 ? REDIS_URL : '',
        LOG_LEVEL: 'warn',
        AUTH_ATTEMPTS_PER_MINUTE: '100000',
        SEGMENT_MESSAGES: String(BENCH_SEGMENT_MESSAGES),
      })
      healthPath = '/healthz'
      syncUrl = `ws://127.0.0.1:${port}/sync`
      break
  }
  const server = startNode(`${definition.id}[${index}]`, [...nodeArgs, ...script], env)
  try {
    await waitForHttp(`${httpUrl}${healthPath}`, server)
  } catch (error) {
    await server.stop()
    throw error
  }
  return { process: server, httpUrl, syncUrl, inspectPort }
}

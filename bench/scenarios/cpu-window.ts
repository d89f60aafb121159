import { cpuBetween, type CpuSnapshot, snapshotCpu } from '../lib/proc-stat.ts'
import type { PostgresAdmin } from '../lib/postgres.ts'
import type { RunningPeer } from '../peers/start-peer.ts'

/** CPU microseconds used in a window, by process group. */
export interface CpuUse {
  serverUs: number
  postgresUs: number
  redisUs: number
}

/**
 * Measures the CPU time of a peer's server processes, of the Postgres backends connected to
 * its database (pg_stat_activity), and of redis-server, between start and finish. Backends
 * that connect inside the window count from zero.
 */
export class CpuWindow {
  private constructor(
    private readonly peer: RunningPeer,
    private readonly admin: PostgresAdmin,
    private readonly backendsBefore: number[],
    private readonly before: { server: CpuSnapshot; postgres: CpuSnapshot; redis: CpuSnapshot },
  ) {}

  static async start(peer: RunningPeer, admin: PostgresAdmin): Promise<CpuWindow> {
    const backends = await backendPids(peer, admin)
    return new CpuWindow(peer, admin, backends, {
      server: snapshotCpu(peer.serverPids()),
      postgres: snapshotCpu(backends),
      redis: snapshotCpu(peer.redisPid ? [peer.redisPid] : []),
    })
  }

  async finish(): Promise<CpuUse> {
    const server = snapshotCpu(this.peer.serverPids())
    const backends = new Set([
      ...this.backendsBefore,
      ...(await backendPids(this.peer, this.admin)),
    ])
    const postgres = snapshotCpu(backends)
    const redis = snapshotCpu(this.peer.redisPid ? [this.peer.redisPid] : [])
    return {
      serverUs: cpuBetween(this.before.server, server),
      postgresUs: cpuBetween(this.before.postgres, postgres),
      redisUs: cpuBetween(this.before.redis, redis),
    }
  }
}

function backendPids(peer: RunningPeer, admin: PostgresAdmin): Promise<number[]> {
  const database = peer.state.database
  return database ? admin.backendPids(database.name) : Promise.resolve([])
}

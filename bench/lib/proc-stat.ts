import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

/** Kernel clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS = readClockTicks()

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
  } catch {
    return 100
  }
}

/**
 * Returns the CPU time (user plus system, all threads) that a process has used, in
 * microseconds, or undefined when the process is gone. The kernel counts in clock ticks,
 * 10 ms each on Linux by default, so short windows have that granularity.
 */
export function readCpuMicros(pid: number): number | undefined {
  let stat: string
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name in brackets may contain spaces, so fields are counted after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const userTicks = Number(fields[11])
  const systemTicks = Number(fields[12])
  return ((userTicks + systemTicks) / CLOCK_TICKS) * 1e6
}

/** Returns the resident set size of a process in bytes, or undefined when it is gone. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** CPU times of a set of processes, taken at one moment. */
export type CpuSnapshot = Map<number, number>

/** Reads the CPU time of each process that still exists. */
export function snapshotCpu(pids: Iterable<number>): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map()
  for (const pid of pids) {
    const micros = readCpuMicros(pid)
    if (micros !== undefined) snapshot.set(pid, micros)
  }
  return snapshot
}

/**
 * Returns the CPU microseconds used between two snapshots. A process that appears only in
 * the later one counts from zero, since it started inside the window; one that exited
 * before the later snapshot is lost, which undercounts.
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): number {
  let total = 0
  for (const [pid, micros] of after) total += micros - (before.get(pid) ?? 0)
  return total
}

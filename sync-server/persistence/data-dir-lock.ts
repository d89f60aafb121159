import fs from 'node:fs'
import path from 'node:path'

/** Lock on the embedded database directory, held by one process at a time. */
export interface DataDirLock {
  path: string
  release(): void
}

/**
 * Takes the lock file of an embedded database directory. A lock left by a process that is
 * no longer alive is taken over; a lock held by a live process throws.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true })
  const lockPath = path.join(dataDir, 'parley.lock')

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, `${process.pid} ${processStartTime(process.pid) ?? ''}\n`, {
        flag: 'wx',
      })
      return { path: lockPath, release: () => releaseIfOwned(lockPath) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = readOwner(lockPath)
    if (owner !== undefined && owner.pid !== process.pid && isOwnerAlive(owner)) {
      throw new Error(
        `the database in ${dataDir} is in use by process ${owner.pid}; stop it or set DATA_DIR to another directory`,
      )
    }
    // The owner died without releasing the lock, so the directory is free to take over.
    fs.rmSync(lockPath, { force: true })
  }
  throw new Error(`could not take the lock file ${lockPath}`)
}

interface LockOwner {
  pid: number
  /** Start time of the process in clock ticks since boot, when /proc provides it. */
  startTime: string | undefined
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const [pidText, startTime] = fs.readFileSync(lockPath, 'utf8').trim().split(' ')
    const pid = Number.parseInt(pidText ?? '', 10)
    return Number.isInteger(pid) && pid > 0 ? { pid, startTime: startTime || undefined } : undefined
  } catch {
    return undefined
  }
}

/**
 * Checks that the lock's owner still runs. A process id can be reused after a crash, so
 * where /proc gives start times, a live process that started at another time is not the owner.
 */
function isOwnerAlive(owner: LockOwner): boolean {
  if (!isAlive(owner.pid)) return false
  if (owner.startTime === undefined) return true
  const current = processStartTime(owner.pid)
  return current === undefined || current === owner.startTime
}

/** Reads a process's start time from /proc/<pid>/stat (field 22); undefined elsewhere. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19]
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM means the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function releaseIfOwned(lockPath: string): void {
  if (readOwner(lockPath)?.pid === process.pid) fs.rmSync(lockPath, { force: true })
}

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
      fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' })
      return { path: lockPath, release: () => releaseIfOwned(lockPath) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const owner = readOwner(lockPath)
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `the database in ${dataDir} is in use by process ${owner}; stop it or set DATA_DIR to another directory`,
      )
    }
    // The owner died without releasing the lock, so the directory is free to take over.
    fs.rmSync(lockPath, { force: true })
  }
  throw new Error(`could not take the lock file ${lockPath}`)
}

function readOwner(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
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
  if (readOwner(lockPath) === process.pid) fs.rmSync(lockPath, { force: true })
}

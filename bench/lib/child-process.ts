import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'
import { ROOT } from './paths.ts'

/** Characters of a child's output kept for error messages. */
const OUTPUT_TAIL_CHARS = 16_000
/** Time a child gets to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 20_000

/** Processes started by startNode that have not exited yet. */
const running = new Set<ManagedProcess>()

/** Stops every process that startNode started and that still runs, as on an interrupt. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((managed) => managed.stop()))
}

/** A child process that the suite started and ends by its pid. */
export interface ManagedProcess {
  name: string
  pid: number
  child: ChildProcess
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>
  /** Whether the process has exited. */
  hasExited(): boolean
  /** Returns the end of what the process wrote to stdout and stderr. */
  outputTail(): string
  /** Sends SIGTERM, waits for the exit, and sends SIGKILL after STOP_TIMEOUT_MS. */
  stop(): Promise<void>
}

/** Starts the project's Node (the one running the suite) in the repository root. */
export function startNode(
  name: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): ManagedProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (child.pid === undefined) throw new Error(`failed to start ${name}: no pid`)
  const pid = child.pid
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)

  let exitedAlready = false
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedAlready = true
      resolve(code ?? signal ?? 'unknown')
    })
  })

  const managed: ManagedProcess = {
    name,
    pid,
    child,
    exited,
    hasExited: () => exitedAlready,
    outputTail: () => output,
    stop: async () => {
      if (exitedAlready) return
      signal(pid, 'SIGTERM')
      const timer = setTimeout(() => {
        if (!exitedAlready) signal(pid, 'SIGKILL')
      }, STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    },
  }
  running.add(managed)
  void exited.then(() => running.delete(managed))
  return managed
}

/** Sends a signal to a process of ours; a process that has exited meanwhile is fine. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/** Returns a TCP port that is free on the loopback address now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => {
        if (typeof address === 'object' && address) resolve(address.port)
        else reject(new Error('no port was assigned'))
      })
    })
  })
}

/**
 * Waits until an HTTP GET of the URL returns a 2xx status. Throws with the end of the
 * process's output when the process exits first or timeoutMs passes.
 */
export async function waitForHttp(
  url: string,
  server: ManagedProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      throw new Error(`${server.name} exited during start:\n${server.outputTail()}`)
    }
    try {
      const response = await fetch(url)
      await response.body?.cancel()
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await sleep(50)
  }
  throw new Error(`${server.name} did not respond to ${url} within ${timeoutMs} ms`)
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

import { type ChildProcess, spawn } from 'node:child_process'
import { freePort } from './server.ts'

/** A Parley server running as its own process, so that a test can kill it. */
export interface ServerProcess {
  url: string
  child: ChildProcess
  /** Ends the process with a signal and waits for it to exit. */
  kill(signal: NodeJS.Signals): Promise<void>
}

/** Starts `sync-server/main.ts` in a child process and waits until /healthz answers. */
export async function startServerProcess(
  env: Record<string, string>,
  port?: number,
): Promise<ServerProcess> {
  const chosen = port ?? (await freePort())
  const url = `http://127.0.0.1:${chosen}`
  const child = spawn(process.execPath, ['--import', 'tsx', 'sync-server/main.ts'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(chosen),
      LOG_LEVEL: 'warn',
      AUTH_ATTEMPTS_PER_MINUTE: '100000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error('the server did not answer /healthz within 30 s')
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    child,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
}

import { type ChildProcess, fork } from 'node:child_process'
import path from 'node:path'
import type { Figures, LoadCommand, LoadReply } from './protocol.ts'

const SCRIPT = path.join(import.meta.dirname, 'load-generator.ts')

/** The suite's side of a load generator process. */
export class LoadGenerator {
  private waiting: { resolve: (reply: LoadReply) => void; reject: (error: Error) => void }[] = []
  private exitCode: number | string | undefined

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: LoadReply) => this.waiting.shift()?.resolve(reply))
    child.on('exit', (code, signal) => {
      this.exitCode = code ?? signal ?? 'unknown'
      for (const waiter of this.waiting) {
        waiter.reject(new Error(`the load generator exited (${this.exitCode}) during a command`))
      }
      this.waiting = []
    })
  }

  /** Starts a load generator; maxOldSpaceMb raises its heap limit for very large documents. */
  static start(maxOldSpaceMb?: number): LoadGenerator {
    const execArgv = ['--import', 'tsx']
    if (maxOldSpaceMb) execArgv.push(`--max-old-space-size=${maxOldSpaceMb}`)
    const child = fork(SCRIPT, [], { execPath: process.execPath, execArgv, stdio: 'inherit' })
    return new LoadGenerator(child)
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /**
   * Sends a command and returns its figures; throws the load generator's error message.
   * With timeoutMs, a load generator that has not replied by then is killed, since one that
   * is busy decoding a large document cannot run its own timers, and the call throws.
   */
  async request(command: LoadCommand, timeoutMs?: number): Promise<Figures> {
    if (this.exitCode !== undefined) throw new Error('the load generator has exited')
    let timer: NodeJS.Timeout | undefined
    const reply = new Promise<LoadReply>((resolve, reject) => {
      this.waiting.push({ resolve, reject })
      this.child.send(command)
    })
    const timeout = new Promise<never>((_resolve, reject) => {
      if (timeoutMs === undefined) return
      timer = setTimeout(() => {
        this.child.kill('SIGKILL')
        reject(
          new Error(`timed out after ${timeoutMs} ms: ${command.type}; killed the load generator`),
        )
      }, timeoutMs)
    })
    try {
      const answer = await Promise.race([reply, timeout])
      if (answer.type === 'failed') throw new Error(`load generator: ${answer.message}`)
      return answer.figures
    } finally {
      clearTimeout(timer)
    }
  }

  /** Closes the clients and waits for the process to exit, killing it after 10 s. */
  async close(): Promise<void> {
    if (this.exitCode !== undefined) return
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    try {
      await Promise.race([this.request({ type: 'close' }), exited])
    } catch {
      // It exits either way, and the timer kills a process that hangs.
    }
    await exited
    clearTimeout(timer)
  }
}

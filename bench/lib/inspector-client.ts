import WebSocket from 'ws'

/** Heap figures of a process, read through its inspector after a forced garbage collection. */
export interface HeapUsage {
  usedBytes: number
  totalBytes: number
}

/**
 * A Chrome DevTools Protocol session with a Node process started with
 * `--inspect=127.0.0.1:<port>`. The suite uses it to force a garbage collection and read the
 * heap of a server without a hook in the server's code.
 */
export class InspectorSession {
  private nextId = 1
  private readonly pending = new Map<number, (message: InspectorReply) => void>()

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const message = JSON.parse(rawToString(data)) as InspectorReply
      if (message.id === undefined) return
      this.pending.get(message.id)?.(message)
      this.pending.delete(message.id)
    })
  }

  /** Connects to the first target of the inspector listening on the port. */
  static async connect(port: number): Promise<InspectorSession> {
    const response = await fetch(`http://127.0.0.1:${port}/json/list`)
    const targets = (await response.json()) as { webSocketDebuggerUrl?: string }[]
    const url = targets[0]?.webSocketDebuggerUrl
    if (!url) throw new Error(`no inspector target on port ${port}`)
    const socket = new WebSocket(url, { maxPayload: 1024 * 1024 * 1024 })
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    return new InspectorSession(socket)
  }

  /** Forces a full garbage collection, then returns the heap in use. */
  async heapAfterGc(): Promise<HeapUsage> {
    await this.send('HeapProfiler.collectGarbage')
    const usage = await this.send('Runtime.getHeapUsage')
    return { usedBytes: Number(usage.usedSize), totalBytes: Number(usage.totalSize) }
  }

  /** Starts V8's CPU profiler in the process. */
  async startProfiling(): Promise<void> {
    await this.send('Profiler.enable')
    await this.send('Profiler.start')
  }

  /** Stops the CPU profiler and returns the profile, in the .cpuprofile format. */
  async stopProfiling(): Promise<unknown> {
    const { profile } = await this.send('Profiler.stop')
    await this.send('Profiler.disable')
    return profile
  }

  close(): void {
    this.socket.close()
  }

  private send(method: string, params: object = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`inspector call ${method} timed out`))
      }, 120_000)
      this.pending.set(id, (message) => {
        clearTimeout(timer)
        if (message.error)
          reject(new Error(`inspector call ${method} failed: ${message.error.message}`))
        else resolve(message.result ?? {})
      })
      this.socket.send(JSON.stringify({ id, method, params }))
    })
  }
}

interface InspectorReply {
  id?: number
  result?: Record<string, unknown>
  error?: { message: string }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}

/**
 * The load generator: one process type for every peer, started by the suite with an IPC
 * channel. It keeps the clients of one scenario run, executes one LoadCommand at a time,
 * and replies with the figures and its own CPU time.
 */
import { mean, percentile } from '../lib/statistics.ts'
import { type BenchClient, createBenchClient } from './bench-client.ts'
import { ConversationReader } from './conversation-reader.ts'
import { AckTracker, DeliveryTracker } from './delivery-tracker.ts'
import type { ClientSpec, Figures, LoadCommand, LoadReply } from './protocol.ts'

// y-websocket registers an exit listener per provider.
process.setMaxListeners(0)

let clients: BenchClient[] = []
let readers: ConversationReader[] = []
let writerCount = 0
let sentPerWriter: number[] = []
let tracker = new DeliveryTracker(0)
let ackTrackers: AckTracker[] = []
let encodedBytes: number[] = []

process.on('message', (command: LoadCommand) => void handle(command))
process.on('disconnect', () => process.exit(0))

async function handle(command: LoadCommand): Promise<void> {
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  let reply: LoadReply
  try {
    const figures = await execute(command)
    const cpu = process.cpuUsage(cpuBefore)
    figures.loadGeneratorCpuMs = (cpu.user + cpu.system) / 1000
    figures.commandMs = performance.now() - started
    reply = { type: 'done', figures }
  } catch (error) {
    reply = { type: 'failed', message: error instanceof Error ? error.message : String(error) }
  }
  process.send?.(reply)
  if (command.type === 'close') setTimeout(() => process.exit(0), 50)
}

function execute(command: LoadCommand): Promise<Figures> {
  switch (command.type) {
    case 'connect':
      return connect(command.clients, command.writers, command.concurrency, command.timeoutMs)
    case 'fanout':
      return fanOut(command.messagesPerWriter, command.inflightPerWriter, command.timeoutMs)
    case 'rate':
      return fixedRate(command.messagesPerSecond, command.durationMs, command.timeoutMs)
    case 'reconnect':
      return reconnectAll(command.timeoutMs)
    case 'open':
      return openConversation(command)
    case 'page-back': {
      const reader = readers.at(-1)
      if (!reader) throw new Error('page-back needs an open conversation')
      return reader.pageBack(command.pages, command.newest, command.timeoutMs)
    }
    case 'status':
      return Promise.resolve(connectionStatus())
    case 'close':
      for (const client of clients) client.destroy()
      for (const reader of readers) reader.destroy()
      clients = []
      readers = []
      return Promise.resolve({})
  }
}

async function connect(
  specs: ClientSpec[],
  writers: number,
  concurrency: number,
  timeoutMs: number,
): Promise<Figures> {
  writerCount = writers
  sentPerWriter = new Array<number>(writers).fill(0)
  clients = specs.map((spec, index) => {
    const client = createBenchClient(spec)
    client.onMessageText = (text) => tracker.received(text)
    client.onAcknowledged = () => ackTrackers[index]?.acknowledged()
    return client
  })
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < clients.length) {
      const client = clients[next++]
      if (client) await client.connect()
    }
  }
  const workers = Array.from({ length: Math.min(concurrency, clients.length) }, worker)
  await withTimeout(Promise.all(workers), timeoutMs, () => `connecting ${clients.length} clients`)
  checkFailures()
  return { clients: clients.length, connectMs: performance.now() - started }
}

/** Starts a measurement window: every client except the writer receives each message. */
function startWindow(): DeliveryTracker {
  tracker = new DeliveryTracker(clients.length - 1)
  ackTrackers = clients.map((client, index) =>
    index < writerCount && client.acknowledges ? new AckTracker() : undefined,
  ) as AckTracker[]
  encodedBytes = []
  return tracker
}

function write(writer: number): void {
  const client = clients[writer]
  if (!client) throw new Error(`no writer ${writer}`)
  sentPerWriter[writer] = (sentPerWriter[writer] ?? 0) + 1
  const text = `bench ${writer}:${sentPerWriter[writer]}`
  tracker.sent(text, writer)
  ackTrackers[writer]?.sent()
  encodedBytes.push(client.write(text))
}

/** Closed loop: each writer keeps `inflight` messages on their way to every receiver. */
async function fanOut(perWriter: number, inflight: number, timeoutMs: number): Promise<Figures> {
  const window = startWindow()
  const total = perWriter * writerCount
  const sent = new Array<number>(writerCount).fill(0)
  const sendNext = (writer: number) => {
    if ((sent[writer] ?? 0) >= perWriter) return
    sent[writer] = (sent[writer] ?? 0) + 1
    write(writer)
  }
  const started = performance.now()
  let finished = started
  const done = new Promise<void>((resolve) => {
    window.onComplete = (writer) => {
      finished = performance.now()
      if (window.completed === total) resolve()
      else sendNext(writer)
    }
  })
  for (let writer = 0; writer < writerCount; writer++) {
    for (let k = 0; k < inflight; k++) sendNext(writer)
  }
  await withTimeout(done, timeoutMs, () => progress('fan-out', window, total))
  await waitForAcks(timeoutMs)
  checkFailures()
  const durationMs = finished - started
  return {
    messages: total,
    deliveries: window.deliveries,
    durationMs,
    deliveriesPerSecond: (window.deliveries / durationMs) * 1000,
    ...latencyFigures(window),
  }
}

/** Open loop: messages at a fixed total rate, round robin over the writers. */
async function fixedRate(
  perSecond: number,
  durationMs: number,
  timeoutMs: number,
): Promise<Figures> {
  const window = startWindow()
  const total = Math.max(1, Math.round((perSecond * durationMs) / 1000))
  const lagMs: number[] = []
  const started = performance.now()
  let sent = 0
  let finished = started
  window.onComplete = () => {
    finished = performance.now()
  }
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started
      const due = Math.min(total, Math.floor((elapsed * perSecond) / 1000) + 1)
      while (sent < due) {
        lagMs.push(elapsed - (sent * 1000) / perSecond)
        write(sent % writerCount)
        sent++
      }
      if (sent >= total) {
        clearInterval(timer)
        resolve()
      }
    }, 1)
  })
  await waitUntil(
    () => window.completed === total,
    timeoutMs,
    () => progress('fixed rate', window, total),
  )
  await waitForAcks(timeoutMs)
  checkFailures()
  return {
    messages: total,
    deliveries: window.deliveries,
    deliveriesPerSecond: (window.deliveries / (finished - started)) * 1000,
    sendLagP99Ms: percentile(lagMs, 99),
    ...latencyFigures(window),
  }
}

/** Closes every connection, then opens them all at once and waits until all are synced. */
async function reconnectAll(timeoutMs: number): Promise<Figures> {
  await withTimeout(
    Promise.all(clients.map((client) => client.disconnect())),
    timeoutMs,
    () => 'closing every connection',
  )
  const started = performance.now()
  let synced = 0
  const reconnecting = clients.map((client) =>
    client.connect().then(() => {
      synced++
    }),
  )
  await withTimeout(
    Promise.all(reconnecting),
    timeoutMs,
    () => `reconnecting: ${synced} of ${clients.length} clients synced`,
  )
  checkFailures()
  return { clients: clients.length, reconnectMs: performance.now() - started }
}

/**
 * Opens a document with an empty client and decodes its newest messages. The client stays
 * connected until `close`, so that the server's memory can be read with the document loaded.
 */
async function openConversation(command: Extract<LoadCommand, { type: 'open' }>): Promise<Figures> {
  const reader = new ConversationReader(command)
  readers.push(reader)
  return reader.open(command.newest, command.timeoutMs)
}

/** Counts failed clients and prints the first failure, which figures cannot carry. */
function connectionStatus(): Figures {
  const failed = clients.filter((client) => client.failure)
  if (failed[0]) console.error(`[load generator] ${failed.length} failed: ${failed[0].failure}`)
  return { clients: clients.length, failedClients: failed.length }
}

function latencyFigures(window: DeliveryTracker): Figures {
  const acks = ackTrackers.flatMap((ack) => ack?.ackMs ?? [])
  const figures: Figures = {
    latencyP50Ms: percentile(window.lastReceiverMs, 50),
    latencyP99Ms: percentile(window.lastReceiverMs, 99),
    encodedBytesMean: mean(encodedBytes),
    strays: window.strays,
  }
  if (acks.length > 0) {
    figures.ackP50Ms = percentile(acks, 50)
    figures.ackP95Ms = percentile(acks, 95)
    figures.ackP99Ms = percentile(acks, 99)
  }
  return figures
}

function waitForAcks(timeoutMs: number): Promise<void> {
  return waitUntil(
    () => ackTrackers.every((ack) => !ack || ack.outstanding === 0),
    timeoutMs,
    () => 'acknowledgements of every write',
  )
}

function checkFailures(): void {
  const failed = clients.filter((client) => client.failure)
  if (failed.length > 0) {
    throw new Error(`${failed.length} clients failed, the first: ${failed[0]?.failure}`)
  }
}

function progress(command: string, window: DeliveryTracker, total: number): string {
  return `${command}: ${window.completed} of ${total} messages reached every receiver (${window.deliveries} deliveries)`
}

/** Polls the condition every 5 ms; throws with the description after timeoutMs. */
async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Rejects with the description when the promise takes longer than timeoutMs. */
async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms: ${describe()}`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

import { sleep } from '../lib/child-process.ts'
import { LoadGenerator } from '../load/load-generator-handle.ts'
import type { Figures } from '../load/protocol.ts'
import { messagesPerWriter } from '../plan.ts'
import { prepareRoom } from '../peers/rooms.ts'
import type { RunningPeer } from '../peers/start-peer.ts'
import type { ScenarioContext } from './context.ts'
import { type CpuUse, CpuWindow } from './cpu-window.ts'

/** Maximum time of one load generator command. */
const COMMAND_TIMEOUT_MS = 180_000

/**
 * Runs the scenarios that need clients connected to one document: fan-out at every size,
 * then, on the same connected clients, the fixed rate and the reconnect storm at their
 * sizes (which are fan-out sizes too).
 */
export async function runLiveTraffic(ctx: ScenarioContext, peer: RunningPeer): Promise<void> {
  for (const clients of ctx.plan.fanOutSizes) {
    await runSession(ctx, peer, clients)
    peer.checkAlive()
  }
}

async function runSession(ctx: ScenarioContext, peer: RunningPeer, clients: number) {
  const { plan } = ctx
  const subject = peer.state.definition.id
  const load = LoadGenerator.start()
  try {
    const fanOut = await ctx.measure('fan-out', subject, clients, async () => {
      const connected = await connectAndWarmUp(ctx, peer, load, clients)
      const figures = await measureFanOut(ctx, peer, load, clients)
      return { ...figures, connectMs: connected.connectMs ?? Number.NaN }
    })
    if (!fanOut) return

    if (clients === plan.fixedRateClients) {
      await ctx.measure('fixed-rate', subject, clients, () =>
        measureFixedRate(ctx, peer, load, clients),
      )
    }
    if (clients === plan.reconnectClients) {
      await ctx.measure('reconnect', subject, clients, () =>
        load.request({ type: 'reconnect', timeoutMs: COMMAND_TIMEOUT_MS }),
      )
    }
  } finally {
    await load.close()
  }
}

/** Connects the clients, then lets each writer send a few messages before any measurement. */
export async function connectAndWarmUp(
  ctx: ScenarioContext,
  peer: RunningPeer,
  load: LoadGenerator,
  clients: number,
): Promise<Figures> {
  const { plan } = ctx
  const subject = peer.state.definition.id
  const room = await prepareRoom(
    peer,
    `bench-${subject}-${clients}-r${ctx.repetition}`,
    clients,
    ctx.plan.maxAccounts,
  )
  const figures = await load.request({
    type: 'connect',
    clients: room.clients,
    writers: plan.writers,
    concurrency: 50,
    timeoutMs: COMMAND_TIMEOUT_MS,
  })
  await load.request({
    type: 'fanout',
    messagesPerWriter: plan.warmupMessagesPerWriter,
    inflightPerWriter: plan.inflightPerWriter,
    timeoutMs: COMMAND_TIMEOUT_MS,
  })
  return figures
}

export async function measureFanOut(
  ctx: ScenarioContext,
  peer: RunningPeer,
  load: LoadGenerator,
  clients: number,
): Promise<Figures> {
  const window = await CpuWindow.start(peer, ctx.admin)
  const figures = await load.request({
    type: 'fanout',
    messagesPerWriter: messagesPerWriter(ctx.plan, clients),
    inflightPerWriter: ctx.plan.inflightPerWriter,
    timeoutMs: COMMAND_TIMEOUT_MS,
  })
  await sleep(ctx.plan.settleMs)
  return withCpu(figures, await window.finish())
}

async function measureFixedRate(
  ctx: ScenarioContext,
  peer: RunningPeer,
  load: LoadGenerator,
  clients: number,
): Promise<Figures> {
  const messagesPerSecond = ctx.plan.fixedRateDeliveriesPerSecond / (clients - 1)
  const window = await CpuWindow.start(peer, ctx.admin)
  const figures = await load.request({
    type: 'rate',
    messagesPerSecond,
    durationMs: ctx.plan.fixedRateSeconds * 1000,
    timeoutMs: COMMAND_TIMEOUT_MS,
  })
  await sleep(ctx.plan.settleMs)
  return { ...withCpu(figures, await window.finish()), messagesPerSecond }
}

/** Adds CPU per delivery of each process group; throws when nothing was delivered. */
export function withCpu(figures: Figures, cpu: CpuUse): Figures {
  const deliveries = figures.deliveries ?? 0
  if (!(deliveries > 0)) throw new Error('zero deliveries')
  return {
    ...figures,
    serverCpuMs: cpu.serverUs / 1000,
    serverCpuUsPerDelivery: cpu.serverUs / deliveries,
    postgresCpuUsPerDelivery: cpu.postgresUs / deliveries,
    redisCpuUsPerDelivery: cpu.redisUs / deliveries,
    loadGeneratorCpuUsPerDelivery: ((figures.loadGeneratorCpuMs ?? 0) * 1000) / deliveries,
  }
}

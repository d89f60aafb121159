import pg from 'pg'
import { sleep } from '../lib/child-process.ts'
import { LoadGenerator } from '../load/load-generator-handle.ts'
import { prepareRoom } from '../peers/rooms.ts'
import type { RunningPeer } from '../peers/start-peer.ts'
import { WAL_RELATION_PREFIX } from '../results-format.ts'
import type { ScenarioContext } from './context.ts'
import { CpuWindow } from './cpu-window.ts'
import { withCpu } from './live-traffic.ts'

/**
 * Writes at plan.persistenceMessagesPerSecond into a Parley conversation on Postgres and
 * measures the stored document bytes and the WAL bytes per message, and the time from a
 * write to its acknowledgement, which Parley sends after the commit.
 */
export async function runPersistence(ctx: ScenarioContext, peer: RunningPeer): Promise<void> {
  const { plan } = ctx
  const database = peer.state.database
  const subject = peer.state.definition.id
  if (!database) throw new Error(`${subject} has no Postgres database`)
  await ctx.measure('persistence', subject, plan.persistenceMessagesPerSecond, async () => {
    const room = await prepareRoom(
      peer,
      `bench-persistence-r${ctx.repetition}`,
      plan.persistenceClients,
      ctx.plan.maxAccounts,
    )
    const load = LoadGenerator.start()
    const db = new pg.Client({ connectionString: database.url })
    await db.connect()
    try {
      await load.request({
        type: 'connect',
        clients: room.clients,
        writers: plan.writers,
        concurrency: 50,
        timeoutMs: 60_000,
      })
      await load.request({
        type: 'fanout',
        messagesPerWriter: plan.warmupMessagesPerWriter,
        inflightPerWriter: 1,
        timeoutMs: 60_000,
      })
      await sleep(plan.persistenceSettleMs)

      const idleStart = await ctx.admin.walPosition()
      await sleep(plan.backgroundWalMs)
      const idleEnd = await ctx.admin.walPosition()
      const backgroundWalPerSecond =
        (await ctx.admin.walBytesBetween(idleStart, idleEnd)) / (plan.backgroundWalMs / 1000)

      const storedBefore = await storedBytes(db, room.documentName)
      const walBefore = await ctx.admin.walPosition()
      const window = await CpuWindow.start(peer, ctx.admin)
      const started = performance.now()
      const figures = await load.request({
        type: 'rate',
        messagesPerSecond: plan.persistenceMessagesPerSecond,
        durationMs: plan.persistenceSeconds * 1000,
        timeoutMs: 120_000,
      })
      await sleep(plan.persistenceSettleMs)
      const seconds = (performance.now() - started) / 1000
      const cpu = await window.finish()
      const walAfter = await ctx.admin.walPosition()
      const walBytes = await ctx.admin.walBytesBetween(walBefore, walAfter)
      const wal = await ctx.admin.walByRelation(walBefore, walAfter, database)
      const stored = (await storedBytes(db, room.documentName)) - storedBefore
      const messages = figures.messages ?? Number.NaN
      const walByRelation = Object.fromEntries(
        [...wal.bytes].map(([relation, bytes]) => [
          `${WAL_RELATION_PREFIX}${relation}`,
          bytes / messages,
        ]),
      )
      return {
        ...withCpu(figures, cpu),
        ...walByRelation,
        walFullPageImageBytesPerMessage: wal.fullPageImageBytes / messages,
        storedBytesPerMessage: stored / messages,
        walBytesPerMessage: walBytes / messages,
        backgroundWalBytesPerMessage: (backgroundWalPerSecond * seconds) / messages,
        durableP50Ms: figures.ackP50Ms ?? Number.NaN,
        durableP95Ms: figures.ackP95Ms ?? Number.NaN,
      }
    } finally {
      await db.end()
      await load.close()
    }
  })
}

/** Returns the bytes a document occupies: its snapshot plus the update rows not compacted. */
async function storedBytes(db: pg.Client, documentName: string): Promise<number> {
  const result = await db.query<{ bytes: string }>(
    `select (coalesce((select octet_length(snapshot) from documents where name = $1), 0)
      + coalesce((select sum(octet_length(data)) from document_updates where name = $1), 0))::text
      as bytes`,
    [documentName],
  )
  return Number(result.rows[0]?.bytes ?? 0)
}

import { DEFAULT_SEGMENT_MESSAGES } from '../../shared/chat-document.ts'
import { InspectorSession } from '../lib/inspector-client.ts'
import { readRssBytes } from '../lib/proc-stat.ts'
import { LoadGenerator } from '../load/load-generator-handle.ts'
import type { Figures, LoadCommand } from '../load/protocol.ts'
import { createGroup } from '../peers/parley-accounts.ts'
import { ensureUsers } from '../peers/rooms.ts'
import { type PeerState, type ServerInstance, startPeer } from '../peers/start-peer.ts'
import type { Plan } from '../plan.ts'
import type { ScenarioContext } from './context.ts'
import { runWorker } from './run-worker.ts'
import type { BenchUser } from '../peers/parley-accounts.ts'

/** Heap of the processes that hold a 1M-message document whole, in MiB. */
export const LARGE_HEAP_MB = 16_384

/** A conversation whose history the suite stored directly in the database. */
export interface StoredConversation {
  size: number
  conversationId: string
  reader: BenchUser
}

/**
 * Creates one conversation per size through the API, stops the server, and stores a
 * generated history in each (see store-history-worker.ts). Runs once per run.
 */
export async function prepareStoredConversations(
  ctx: ScenarioContext,
  state: PeerState,
): Promise<StoredConversation[]> {
  const database = state.database
  if (!database) throw new Error(`${state.definition.id} has no Postgres database`)
  const peer = await startPeer(state)
  const created: { size: number; id: string; reader: BenchUser }[] = []
  try {
    const users = await ensureUsers(peer, 4)
    const baseUrl = peer.instances[0]?.httpUrl ?? ''
    for (const size of ctx.plan.openSizes) {
      const conversation = await createGroup(baseUrl, users, `bench stored ${size}`)
      created.push({ size, id: conversation.id, reader: users[0] as BenchUser })
    }
  } finally {
    await peer.stop()
  }
  const stored: StoredConversation[] = []
  for (const { size, id, reader } of created) {
    ctx.log(`storing a history of ${size} messages`)
    const args = [database.url, String(size), id, String(DEFAULT_SEGMENT_MESSAGES)]
    await runWorker('bench/scenarios/store-history-worker.ts', args, {
      nodeArgs: [`--max-old-space-size=${LARGE_HEAP_MB}`],
      timeoutMs: 30 * 60_000,
    })
    stored.push({ size, conversationId: id, reader })
  }
  return stored
}

/**
 * Starts a cold server for each stored conversation, opens it with an empty Node client
 * that decodes the newest messages, and reads the server's heap growth after a forced GC
 * while the documents are loaded. Then the client scrolls back through older segments.
 */
export async function runOpenStored(
  ctx: ScenarioContext,
  state: PeerState,
  stored: StoredConversation[],
): Promise<void> {
  for (const conversation of stored) {
    await ctx.measure('open-stored', state.definition.id, conversation.size, async () => {
      const peer = await startPeer(state)
      const instance = peer.instances[0]
      if (!instance) throw new Error('no server instance')
      const inspector = await InspectorSession.connect(instance.inspectPort)
      const load = LoadGenerator.start(LARGE_HEAP_MB)
      try {
        const before = await inspector.heapAfterGc()
        const rssBefore = readRssBytes(instance.process.pid) ?? Number.NaN
        const figures = await openOrTimeOut(load, openCommand(conversation, instance, ctx.plan))
        if (figures.timedOutAfterMs !== undefined) return figures
        const after = await inspector.heapAfterGc()
        const rssAfter = readRssBytes(instance.process.pid) ?? Number.NaN
        peer.checkAlive()
        // A server that closed the connection has unloaded the document: its heap no
        // longer shows what the open cost.
        const status = await load.request({ type: 'status' })
        if (status.failedClients) return { ...figures, connectionLostBeforeHeapRead: 1 }
        if (figures.decoded !== Math.min(ctx.plan.openNewest, conversation.size)) {
          throw new Error(
            `decoded ${figures.decoded} of the newest ${ctx.plan.openNewest} messages`,
          )
        }
        const pages = await load.request({
          type: 'page-back',
          pages: ctx.plan.openPagesBack,
          newest: ctx.plan.openNewest,
          timeoutMs: ctx.plan.openTimeoutMs,
        })
        // Only the paging figures are taken, since the command's own CPU and duration figures
        // would hide the open's.
        const pageFigures = Object.fromEntries(
          Object.entries(pages).filter(([name]) => name.startsWith('page')),
        )
        return {
          ...figures,
          ...pageFigures,
          heapGrowthBytes: after.usedBytes - before.usedBytes,
          rssGrowthBytes: rssAfter - rssBefore,
        }
      } finally {
        inspector.close()
        await load.close()
        await peer.stop()
      }
    })
  }
}

/** Returns the command that opens a stored conversation with an empty client. */
export function openCommand(
  conversation: StoredConversation,
  instance: ServerInstance,
  plan: Plan,
): Extract<LoadCommand, { type: 'open' }> {
  return {
    type: 'open',
    url: instance.syncUrl,
    apiUrl: `${instance.httpUrl}/api`,
    conversationId: conversation.conversationId,
    token: conversation.reader.token,
    newest: plan.openNewest,
    timeoutMs: plan.openTimeoutMs,
  }
}

/** Time the suite waits beyond the load generator's own timeout before it kills it. */
const KILL_GRACE_MS = 5000

/**
 * Sends the open command. An open that takes longer than its timeout is a measured outcome
 * (the goal is missed), so it returns `timedOutAfterMs` instead of failing the run. The
 * load generator is killed when it cannot even report its timeout, as while it decodes.
 */
export async function openOrTimeOut(
  load: LoadGenerator,
  command: Extract<LoadCommand, { type: 'open' }>,
): Promise<Figures> {
  try {
    return await load.request(command, command.timeoutMs + KILL_GRACE_MS)
  } catch (error) {
    if (error instanceof Error && error.message.includes('timed out after')) {
      return { timedOutAfterMs: command.timeoutMs }
    }
    throw error
  }
}

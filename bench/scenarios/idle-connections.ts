import { sleep } from '../lib/child-process.ts'
import { type HeapUsage, InspectorSession } from '../lib/inspector-client.ts'
import { readRssBytes } from '../lib/proc-stat.ts'
import { LoadGenerator } from '../load/load-generator-handle.ts'
import { prepareRoom } from '../peers/rooms.ts'
import type { RunningPeer } from '../peers/start-peer.ts'
import type { ScenarioContext } from './context.ts'

/** Memory of every instance of a peer, summed: heap after a forced GC, and RSS. */
interface PeerMemory {
  heapBytes: number
  rssBytes: number
}

/**
 * Opens plan.idleConnections connections to one document and reads the servers' memory
 * growth per connection. Run first on a fresh server, whose heap has not grown yet.
 */
export async function runIdleConnections(ctx: ScenarioContext, peer: RunningPeer): Promise<void> {
  const count = ctx.plan.idleConnections
  const subject = peer.state.definition.id
  await ctx.measure('idle', subject, count, async () => {
    const room = await prepareRoom(
      peer,
      `bench-${subject}-idle-r${ctx.repetition}`,
      count,
      ctx.plan.maxAccounts,
    )
    const inspectors = await Promise.all(
      peer.instances.map((instance) => InspectorSession.connect(instance.inspectPort)),
    )
    const load = LoadGenerator.start()
    try {
      const before = await readMemory(peer, inspectors)
      const connected = await load.request({
        type: 'connect',
        clients: room.clients,
        writers: 0,
        concurrency: 100,
        timeoutMs: 300_000,
      })
      await sleep(ctx.plan.idleSettleMs)
      const after = await readMemory(peer, inspectors)
      peer.checkAlive()
      return {
        connections: count,
        connectMs: connected.connectMs ?? Number.NaN,
        rssBytesPerConnection: (after.rssBytes - before.rssBytes) / count,
        heapBytesPerConnection: (after.heapBytes - before.heapBytes) / count,
        rssBytesBefore: before.rssBytes,
        heapBytesBefore: before.heapBytes,
      }
    } finally {
      await load.close()
      for (const inspector of inspectors) inspector.close()
    }
  })
}

async function readMemory(peer: RunningPeer, inspectors: InspectorSession[]): Promise<PeerMemory> {
  const heaps: HeapUsage[] = []
  for (const inspector of inspectors) heaps.push(await inspector.heapAfterGc())
  const rss = peer.serverPids().map((pid) => readRssBytes(pid) ?? Number.NaN)
  return {
    heapBytes: heaps.reduce((sum, heap) => sum + heap.usedBytes, 0),
    rssBytes: rss.reduce((sum, bytes) => sum + bytes, 0),
  }
}

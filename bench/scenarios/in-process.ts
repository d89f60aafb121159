import type { PeerState } from '../peers/start-peer.ts'
import type { ScenarioContext } from './context.ts'
import { runWorker } from './run-worker.ts'

/** Times Parley's authorship check at each size, in a worker process per size. */
export async function runAuthorship(ctx: ScenarioContext, state: PeerState): Promise<void> {
  const database = state.database
  if (!database) throw new Error(`${state.definition.id} has no Postgres database`)
  for (const size of ctx.plan.authorshipSizes) {
    await ctx.measure('authorship', state.definition.id, size, () =>
      runWorker(
        'bench/scenarios/authorship-worker.ts',
        [database.url, String(size), String(ctx.plan.authorshipIterations)],
        { nodeArgs: ['--max-old-space-size=8192'], timeoutMs: 15 * 60_000 },
      ),
    )
  }
}

/**
 * Builds, saves and loads the same history in Yjs and in Automerge, each in a fresh process;
 * the order of the two alternates between repetitions.
 */
export async function runDocumentCost(ctx: ScenarioContext): Promise<void> {
  const libraries = ['yjs', 'automerge'] as const
  const order = ctx.repetition % 2 === 0 ? [...libraries].reverse() : libraries
  for (const library of order) {
    await ctx.measure('doc-cost', library, ctx.plan.docCostMessages, () =>
      runWorker('bench/scenarios/doc-cost-worker.ts', [library, String(ctx.plan.docCostMessages)], {
        nodeArgs: ['--expose-gc', '--max-old-space-size=8192'],
        timeoutMs: 30 * 60_000,
      }),
    )
  }
}

import { DEFAULT_SEGMENT_MESSAGES } from '../../shared/chat-document.ts'
import type { PeerId } from '../peers/peer-definitions.ts'
import type { RunResults, ScenarioId, Subject } from '../results-format.ts'
import { aggregate, formatNumber, sampleErrors } from './aggregate.ts'

/** A goal of the issue with the verdict that the measured medians give. */
export interface GoalVerdict {
  goal: string
  measured: string
  /** undefined for goals that ask for documentation, not a figure. */
  met: boolean | undefined
}

const PARLEY_PEERS: PeerId[] = ['parley-pglite', 'parley-postgres', 'parley-redis']
/** Bytes in the 5 MB heap goal, read as decimal megabytes, the stricter reading. */
const HEAP_GOAL_BYTES = 5_000_000

/** Decides every goal from the medians over the repetitions; missing data misses the goal. */
export function evaluateGoals(results: RunResults): GoalVerdict[] {
  return [
    ...fanOutGoals(results),
    ...fixedRateGoals(results),
    ...idleGoals(results),
    ...openGoals(results),
    ...persistenceGoals(results),
    ...authorshipGoals(results),
    ...reconnectGoals(results),
    {
      goal: 'Yjs vs Automerge, documented with the reason for the choice',
      measured: 'see "Yjs and Automerge" below',
      met: undefined,
    },
  ]
}

function labelOf(results: RunResults, id: Subject): string {
  return results.peers.find((peer) => peer.id === id)?.label ?? id
}

/** Compares a median with a limit; without a median the goal is missed with the reason. */
function verdict(
  results: RunResults,
  goal: string,
  at: { scenario: ScenarioId; subject: Subject; size: number },
  value: number | undefined,
  limit: number,
  describe: (value: number) => string,
  /** "under" excludes the limit itself; "within" includes it. */
  bound: 'under' | 'within' = 'within',
): GoalVerdict {
  if (value === undefined || !Number.isFinite(value)) {
    return { goal, measured: missingReason(results, at), met: false }
  }
  return {
    goal,
    measured: describe(value),
    met: bound === 'under' ? value < limit : value <= limit,
  }
}

/** Explains a missing median: a timeout, the first error, or no data. */
function missingReason(
  results: RunResults,
  at: { scenario: ScenarioId; subject: Subject; size: number },
): string {
  const timeout = aggregate(results, at.scenario, at.subject, at.size, 'timedOutAfterMs')
  if (timeout) return `did not finish within ${formatNumber(timeout.median / 1000)} s`
  if (aggregate(results, at.scenario, at.subject, at.size, 'connectionLostBeforeHeapRead')) {
    return 'not measurable: the connection closed before the heap was read'
  }
  const errors = sampleErrors(results, at.scenario, at.subject, at.size)
  if (errors[0]) return `failed: ${errors[0].split('\n')[0]?.slice(0, 160)}`
  return 'no data'
}

function fanOutGoals(results: RunResults): GoalVerdict[] {
  const verdicts: GoalVerdict[] = []
  for (const size of results.plan.fanOutSizes) {
    const limit = size <= 10 ? 2 : 1.3
    const base = aggregate(results, 'fan-out', 'hocuspocus', size, 'serverCpuUsPerDelivery')
    for (const peer of PARLEY_PEERS) {
      const own = aggregate(results, 'fan-out', peer, size, 'serverCpuUsPerDelivery')
      const ratio = own && base ? own.median / base.median : undefined
      verdicts.push(
        verdict(
          results,
          `Fan-out to ${size} clients: ${labelOf(results, peer)} server CPU per delivery within ${limit}× bare Hocuspocus (both flushDelay 0)`,
          { scenario: 'fan-out', subject: peer, size },
          ratio,
          limit,
          (value) =>
            `${formatNumber(value)}× (${formatNumber(own?.median)} µs vs ${formatNumber(base?.median)} µs)`,
        ),
      )
    }
  }
  return verdicts
}

function fixedRateGoals(results: RunResults): GoalVerdict[] {
  const { fixedRateClients: size, fixedRateDeliveriesPerSecond: rate } = results.plan
  return PARLEY_PEERS.flatMap((peer) => {
    const limit = peer === 'parley-redis' ? 15 : 10
    const at = { scenario: 'fixed-rate' as const, subject: peer, size }
    return (['latencyP99Ms', 'ackP99Ms'] as const).map((figure) =>
      verdict(
        results,
        `${formatNumber(rate)} deliveries/s to ${size} clients: ${labelOf(results, peer)} ${figure === 'ackP99Ms' ? 'acknowledgement (durable commit)' : 'last-receiver latency'} p99 under ${limit} ms`,
        at,
        aggregate(results, 'fixed-rate', peer, size, figure)?.median,
        limit,
        (value) => `${formatNumber(value)} ms`,
        'under',
      ),
    )
  })
}

function idleGoals(results: RunResults): GoalVerdict[] {
  const size = results.plan.idleConnections
  const base = aggregate(results, 'idle', 'hocuspocus', size, 'rssBytesPerConnection')
  return PARLEY_PEERS.map((peer) => {
    const own = aggregate(results, 'idle', peer, size, 'rssBytesPerConnection')
    return verdict(
      results,
      `${formatNumber(size)} idle connections: ${labelOf(results, peer)} memory per connection within 1.2× bare Hocuspocus`,
      { scenario: 'idle', subject: peer, size },
      own && base ? own.median / base.median : undefined,
      1.2,
      (value) =>
        `${formatNumber(value)}× (${formatNumber((own?.median ?? 0) / 1024)} KiB vs ${formatNumber((base?.median ?? 0) / 1024)} KiB RSS)`,
    )
  })
}

function openGoals(results: RunResults): GoalVerdict[] {
  return results.plan.openSizes.flatMap((size) => {
    const at = { scenario: 'open-stored' as const, subject: 'parley-postgres' as const, size }
    // Scrolling back opens segments before the open one and the one before it, if any.
    const pagesBack = size > 2 * DEFAULT_SEGMENT_MESSAGES
    const pageGoal = verdict(
      results,
      `Open a stored conversation of ${formatNumber(size)} messages: each older page in under 50 ms`,
      at,
      aggregate(results, 'open-stored', 'parley-postgres', size, 'pageBackMsMax')?.median,
      50,
      (value) => `${formatNumber(value)} ms for the slowest`,
      'under',
    )
    return [
      verdict(
        results,
        `Open a stored conversation of ${formatNumber(size)} messages: newest ${results.plan.openNewest} decoded in under 100 ms`,
        at,
        aggregate(results, 'open-stored', 'parley-postgres', size, 'openMs')?.median,
        100,
        (value) => `${formatNumber(value)} ms`,
        'under',
      ),
      ...(pagesBack ? [pageGoal] : []),
      verdict(
        results,
        `Open a stored conversation of ${formatNumber(size)} messages: server heap growth under 5 MB`,
        at,
        aggregate(results, 'open-stored', 'parley-postgres', size, 'heapGrowthBytes')?.median,
        HEAP_GOAL_BYTES,
        (value) => `${formatNumber(value / 1e6)} MB`,
        'under',
      ),
    ]
  })
}

function persistenceGoals(results: RunResults): GoalVerdict[] {
  const size = results.plan.persistenceMessagesPerSecond
  const at = { scenario: 'persistence' as const, subject: 'parley-postgres' as const, size }
  const figure = (name: string) =>
    aggregate(results, 'persistence', 'parley-postgres', size, name)?.median
  const encoded = figure('encodedBytesMean')
  const ratioTo = (name: string) => {
    const value = figure(name)
    return value !== undefined && encoded ? value / encoded : undefined
  }
  const bytes = (name: string) => (value: number) =>
    `${formatNumber(value)}× (${formatNumber(figure(name))} B per message, update ${formatNumber(encoded)} B)`
  return [
    verdict(
      results,
      `Persistence at ${size} msg/s: stored payload per message within 2× the encoded update`,
      at,
      ratioTo('storedBytesPerMessage'),
      2,
      bytes('storedBytesPerMessage'),
    ),
    verdict(
      results,
      `Persistence at ${size} msg/s: WAL bytes per message within 2× the encoded update`,
      at,
      ratioTo('walBytesPerMessage'),
      2,
      bytes('walBytesPerMessage'),
    ),
    verdict(
      results,
      `Persistence at ${size} msg/s: time to durable p95 under 50 ms`,
      at,
      figure('durableP95Ms'),
      50,
      (value) => `${formatNumber(value)} ms`,
      'under',
    ),
  ]
}

function authorshipGoals(results: RunResults): GoalVerdict[] {
  return results.plan.authorshipSizes.map((size) =>
    verdict(
      results,
      `Authorship check at ${formatNumber(size)} messages: under 20 µs per update`,
      { scenario: 'authorship', subject: 'parley-postgres', size },
      aggregate(results, 'authorship', 'parley-postgres', size, 'usPerUpdate')?.median,
      20,
      (value) => `${formatNumber(value)} µs`,
      'under',
    ),
  )
}

function reconnectGoals(results: RunResults): GoalVerdict[] {
  const size = results.plan.reconnectClients
  return PARLEY_PEERS.map((peer) =>
    verdict(
      results,
      `Reconnect storm of ${formatNumber(size)} clients: ${labelOf(results, peer)} has all synced in under 10 s`,
      { scenario: 'reconnect', subject: peer, size },
      aggregate(results, 'reconnect', peer, size, 'reconnectMs')?.median,
      10_000,
      (value) => `${formatNumber(value / 1000)} s`,
      'under',
    ),
  )
}

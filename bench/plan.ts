/** Sizes and durations of one run; `--quick` shrinks every scenario to finish within a minute. */
export interface Plan {
  mode: 'quick' | 'full'
  /** Repetitions of every configuration, peers interleaved within each. */
  repetitions: number
  /** Clients of the fan-out scenario, 4 of them writers. */
  fanOutSizes: number[]
  writers: number
  /** Deliveries that one measured fan-out window aims at, bounded by maxMessagesPerWriter. */
  fanOutDeliveries: number
  maxMessagesPerWriter: number
  /** Messages each writer keeps on their way at once in the closed loop. */
  inflightPerWriter: number
  warmupMessagesPerWriter: number
  /** Fixed-rate scenario: clients, deliveries per second, seconds. */
  fixedRateClients: number
  fixedRateDeliveriesPerSecond: number
  fixedRateSeconds: number
  idleConnections: number
  /**
   * Parley accounts a room uses at most; beyond it, accounts open several connections, as a
   * user with several devices does. Every signup costs an Argon2id hash.
   */
  maxAccounts: number
  /** Messages of the stored conversations opened by a cold server. */
  openSizes: number[]
  /** Messages that the opening client decodes, newest first. */
  openNewest: number
  /** Older segments that the opening client loads one at a time after the newest page. */
  openPagesBack: number
  /** Time after which an open counts as not finished; the goal is missed either way. */
  openTimeoutMs: number
  persistenceClients: number
  persistenceMessagesPerSecond: number
  persistenceSeconds: number
  authorshipSizes: number[]
  authorshipIterations: number
  reconnectClients: number
  docCostMessages: number
  /**
   * Time after the last delivery that still counts as a window's CPU, so that work a server
   * defers (Parley records conversation activity 250 ms after a change) is charged to it.
   */
  settleMs: number
  /** Wait after the last idle connection before the memory is read. */
  idleSettleMs: number
  /** Wait after the writes before the stored bytes and the WAL are read (compaction runs). */
  persistenceSettleMs: number
  /** Idle time before the writes over which the WAL that others write is estimated. */
  backgroundWalMs: number
  /** Start every peer's servers at once at the start of a repetition; measurements suffer. */
  startPeersTogether: boolean
  /** Whether to profile the Parley server with --cpu-prof after the repetitions. */
  profile: boolean
}

export const FULL_PLAN: Plan = {
  mode: 'full',
  repetitions: 3,
  fanOutSizes: [10, 100, 1000],
  writers: 4,
  fanOutDeliveries: 60_000,
  maxMessagesPerWriter: 500,
  inflightPerWriter: 4,
  warmupMessagesPerWriter: 5,
  fixedRateClients: 100,
  fixedRateDeliveriesPerSecond: 20_000,
  fixedRateSeconds: 5,
  idleConnections: 5000,
  maxAccounts: 1000,
  openSizes: [1000, 100_000, 1_000_000],
  openNewest: 50,
  openPagesBack: 5,
  openTimeoutMs: 60_000,
  persistenceClients: 10,
  persistenceMessagesPerSecond: 500,
  persistenceSeconds: 5,
  authorshipSizes: [1000, 100_000],
  authorshipIterations: 2000,
  reconnectClients: 1000,
  docCostMessages: 100_000,
  settleMs: 500,
  idleSettleMs: 1000,
  persistenceSettleMs: 1500,
  backgroundWalMs: 2000,
  startPeersTogether: false,
  profile: true,
}

export const QUICK_PLAN: Plan = {
  mode: 'quick',
  repetitions: 1,
  fanOutSizes: [6],
  writers: 4,
  fanOutDeliveries: 500,
  maxMessagesPerWriter: 25,
  inflightPerWriter: 2,
  warmupMessagesPerWriter: 2,
  fixedRateClients: 6,
  fixedRateDeliveriesPerSecond: 500,
  fixedRateSeconds: 0.5,
  idleConnections: 40,
  maxAccounts: 8,
  // Ten segments of the server's default size, so that opening also pages back.
  openSizes: [2500],
  openNewest: 50,
  openPagesBack: 2,
  openTimeoutMs: 30_000,
  persistenceClients: 5,
  persistenceMessagesPerSecond: 200,
  persistenceSeconds: 0.5,
  authorshipSizes: [300],
  authorshipIterations: 200,
  reconnectClients: 6,
  docCostMessages: 500,
  settleMs: 100,
  idleSettleMs: 100,
  persistenceSettleMs: 300,
  backgroundWalMs: 300,
  startPeersTogether: true,
  profile: false,
}

/** Messages per writer in one measured fan-out window with `clients` clients. */
export function messagesPerWriter(plan: Plan, clients: number): number {
  const messages = Math.ceil(plan.fanOutDeliveries / (clients - 1) / plan.writers)
  return Math.max(plan.inflightPerWriter, Math.min(plan.maxMessagesPerWriter, messages))
}

/** Throws when the plan requests a session size that the fan-out does not run. */
export function checkPlan(plan: Plan): void {
  for (const size of [plan.fixedRateClients, plan.reconnectClients]) {
    if (!plan.fanOutSizes.includes(size)) {
      throw new RangeError(`${size} clients is not a fan-out size (${plan.fanOutSizes.join(', ')})`)
    }
  }
}

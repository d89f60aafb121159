import type { PostgresAdmin } from './lib/postgres.ts'
import type { PeerId } from './peers/peer-definitions.ts'
import { type PeerState, type RunningPeer, startPeer } from './peers/start-peer.ts'
import type { Plan } from './plan.ts'
import type { ProfileSummary, Sample } from './results-format.ts'
import { createContext } from './scenarios/context.ts'
import { runIdleConnections } from './scenarios/idle-connections.ts'
import { runAuthorship, runDocumentCost } from './scenarios/in-process.ts'
import { runLiveTraffic } from './scenarios/live-traffic.ts'
import {
  prepareStoredConversations,
  runOpenStored,
  type StoredConversation,
} from './scenarios/open-stored.ts'
import { runPersistence } from './scenarios/persistence.ts'
import { runProfiles } from './scenarios/profiles.ts'

/** The peer of the Parley-only scenarios: one instance on Postgres, the production setup. */
const STORAGE_PEER: PeerId = 'parley-postgres'

function storagePeer(states: PeerState[]): PeerState {
  const state = states.find((candidate) => candidate.definition.id === STORAGE_PEER)
  if (!state) throw new Error(`no ${STORAGE_PEER} peer`)
  return state
}

/** Stores the histories of the "open a stored conversation" scenario, once per run. */
export async function prepareStored(
  plan: Plan,
  admin: PostgresAdmin,
  states: PeerState[],
  samples: Sample[],
  errors: string[],
): Promise<StoredConversation[]> {
  const ctx = createContext(plan, admin, 0, samples, errors)
  return prepareStoredConversations(ctx, storagePeer(states))
}

/**
 * Runs one repetition: every peer in turn, each on freshly started servers, in an order
 * that rotates between repetitions; then the Parley-only and in-process scenarios.
 */
export async function runRepetition(
  plan: Plan,
  admin: PostgresAdmin,
  states: PeerState[],
  stored: StoredConversation[],
  repetition: number,
  samples: Sample[],
  errors: string[],
): Promise<void> {
  const ctx = createContext(plan, admin, repetition, samples, errors)
  const shift = (repetition - 1) % states.length
  const order = [...states.slice(shift), ...states.slice(0, shift)]
  const startedTogether = plan.startPeersTogether ? await startAll(order) : undefined
  try {
    for (const [index, state] of order.entries()) {
      ctx.log(`repetition ${repetition}: ${state.definition.label}`)
      const peer = startedTogether?.[index] ?? (await startPeer(state))
      try {
        await runIdleConnections(ctx, peer)
        await runLiveTraffic(ctx, peer)
        if (state.definition.id === STORAGE_PEER) await runPersistence(ctx, peer)
      } finally {
        await peer.stop()
      }
    }
  } finally {
    await Promise.all((startedTogether ?? []).map((peer) => peer.stop()))
  }
  const storage = storagePeer(states)
  await runOpenStored(ctx, storage, stored)
  await runAuthorship(ctx, storage)
  await runDocumentCost(ctx)
}

/** Starts every peer at once; when one fails to start, stops the others and throws. */
async function startAll(states: PeerState[]): Promise<RunningPeer[]> {
  const outcomes = await Promise.allSettled(states.map((state) => startPeer(state)))
  const running = outcomes.flatMap((outcome) =>
    outcome.status === 'fulfilled' ? [outcome.value] : [],
  )
  const failed = outcomes.find((outcome) => outcome.status === 'rejected')
  if (failed) {
    await Promise.all(running.map((peer) => peer.stop()))
    throw failed.reason
  }
  return running
}

/**
 * Profiles the Parley server after the repetitions. The open profile takes the largest
 * conversation that every repetition opened, because a server that does not finish the
 * open gets killed before its profile stops.
 */
export async function runAllProfiles(
  plan: Plan,
  admin: PostgresAdmin,
  states: PeerState[],
  stored: StoredConversation[],
  samples: Sample[],
  errors: string[],
): Promise<ProfileSummary[]> {
  const discarded: Sample[] = []
  const ctx = createContext(plan, admin, 0, discarded, errors)
  const opened = stored.filter((conversation) => {
    const opens = samples.filter(
      (sample) => sample.scenario === 'open-stored' && sample.size === conversation.size,
    )
    return opens.length > 0 && opens.every((sample) => sample.figures.openMs !== undefined)
  })
  try {
    return await runProfiles(ctx, storagePeer(states), opened.at(-1))
  } catch (error) {
    errors.push(`profile: ${error instanceof Error ? error.message : String(error)}`)
    return []
  }
}

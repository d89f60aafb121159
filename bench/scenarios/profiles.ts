import fs from 'node:fs'
import path from 'node:path'
import { InspectorSession } from '../lib/inspector-client.ts'
import { CACHE_DIR } from '../lib/paths.ts'
import { LoadGenerator } from '../load/load-generator-handle.ts'
import { type PeerState, type RunningPeer, startPeer } from '../peers/start-peer.ts'
import { summarizeProfile } from '../report/cpu-profile.ts'
import type { ProfileSummary } from '../results-format.ts'
import type { ScenarioContext } from './context.ts'
import { connectAndWarmUp, measureFanOut } from './live-traffic.ts'
import {
  LARGE_HEAP_MB,
  openCommand,
  openOrTimeOut,
  type StoredConversation,
} from './open-stored.ts'

/** Directory of the profile files of the latest full run, ignored by git. */
const PROFILE_DIR = path.join(CACHE_DIR, 'profiles')

/**
 * Profiles the Parley server with V8's CPU profiler, started and stopped through the
 * inspector around the measured work only: the largest fan-out, and the open of the
 * largest stored conversation that every repetition opened within the timeout.
 */
export async function runProfiles(
  ctx: ScenarioContext,
  state: PeerState,
  opened: StoredConversation | undefined,
): Promise<ProfileSummary[]> {
  fs.rmSync(PROFILE_DIR, { recursive: true, force: true })
  fs.mkdirSync(PROFILE_DIR, { recursive: true })
  const clients = Math.max(...ctx.plan.fanOutSizes)
  const summaries = [
    await profileWith(
      ctx,
      state,
      `Parley (Postgres) server during the fan-out to ${clients} clients`,
      'fan-out',
      async (peer, around) => {
        const load = LoadGenerator.start()
        try {
          await connectAndWarmUp(ctx, peer, load, clients)
          await around(() => measureFanOut(ctx, peer, load, clients))
        } finally {
          await load.close()
        }
      },
    ),
  ]
  if (opened) {
    summaries.push(
      await profileWith(
        ctx,
        state,
        `Parley (Postgres) server opening the stored conversation of ${opened.size} messages`,
        'open-stored',
        async (peer, around) => {
          const load = LoadGenerator.start(LARGE_HEAP_MB)
          const instance = peer.instances[0]
          if (!instance) throw new Error('no server instance')
          try {
            await around(() => openOrTimeOut(load, openCommand(opened, instance, ctx.plan)))
          } finally {
            await load.close()
          }
        },
      ),
    )
  }
  return summaries
}

/** Runs work on a fresh server, profiling the part that `work` passes to `around`. */
async function profileWith(
  ctx: ScenarioContext,
  state: PeerState,
  title: string,
  name: string,
  work: (
    peer: RunningPeer,
    around: (measured: () => Promise<unknown>) => Promise<void>,
  ) => Promise<void>,
): Promise<ProfileSummary> {
  ctx.log(`profiling: ${title}`)
  const peer = await startPeer(state)
  const instance = peer.instances[0]
  if (!instance) throw new Error('no server instance')
  const inspector = await InspectorSession.connect(instance.inspectPort)
  const file = path.join(PROFILE_DIR, `${name}.cpuprofile`)
  try {
    await work(peer, async (measured) => {
      await inspector.startProfiling()
      await measured()
      fs.writeFileSync(file, JSON.stringify(await inspector.stopProfiling()))
    })
  } finally {
    inspector.close()
    await peer.stop()
  }
  return summarizeProfile(title, file)
}

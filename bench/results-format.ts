import type { Figures } from './load/protocol.ts'
import type { PeerId } from './peers/peer-definitions.ts'
import type { Plan } from './plan.ts'

/** Scenario of a sample. */
export type ScenarioId =
  | 'fan-out'
  | 'fixed-rate'
  | 'idle'
  | 'open-stored'
  | 'persistence'
  | 'authorship'
  | 'reconnect'
  | 'doc-cost'

/** Subject of a sample: a peer, or a CRDT library in the document cost scenario. */
export type Subject = PeerId | 'yjs' | 'automerge'

/** One measurement: a scenario, a subject, a size (clients or messages) and a repetition. */
export interface Sample {
  scenario: ScenarioId
  subject: Subject
  size: number
  repetition: number
  figures: Figures
  /** Set when the measurement failed; the figures are then incomplete. */
  error?: string
}

/** Self time of the heaviest functions in a CPU profile. */
export interface ProfileSummary {
  title: string
  /** Profile file, relative to the repository root. */
  file: string
  totalMs: number
  /** Self time by origin: Parley's code, each package, Node internals, garbage collection. */
  byOrigin: { origin: string; ms: number; share: number }[]
  topFunctions: { name: string; location: string; ms: number; share: number }[]
}

/** Everything one run wrote to bench/results. */
export interface RunResults {
  mode: Plan['mode']
  plan: Plan
  startedAt: string
  finishedAt: string
  durationSeconds: number
  machine: Record<string, string | number>
  versions: Record<string, string>
  peers: { id: PeerId; label: string; configuration: Record<string, string | number | boolean> }[]
  samples: Sample[]
  profiles: ProfileSummary[]
  /** Harness errors: a run with any is not trustworthy and exits non-zero. */
  errors: string[]
}

/** Prefix of the persistence figures of WAL bytes per message written for one relation. */
export const WAL_RELATION_PREFIX = 'walBytesPerMessageIn:'

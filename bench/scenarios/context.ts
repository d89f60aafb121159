import type { Figures } from '../load/protocol.ts'
import type { PostgresAdmin } from '../lib/postgres.ts'
import type { Plan } from '../plan.ts'
import type { Sample, ScenarioId, Subject } from '../results-format.ts'

/** Settings and helpers that the run passes to every scenario. */
export interface ScenarioContext {
  plan: Plan
  admin: PostgresAdmin
  repetition: number
  log(message: string): void
  /**
   * Runs one measurement and records its sample. A failure is recorded as the sample's
   * error, counted as an error of the run, and not thrown, so that the other measurements
   * still run.
   */
  measure(
    scenario: ScenarioId,
    subject: Subject,
    size: number,
    run: () => Promise<Figures>,
  ): Promise<Figures | undefined>
}

/** Creates the context of one repetition, appending samples and errors to the given lists. */
export function createContext(
  plan: Plan,
  admin: PostgresAdmin,
  repetition: number,
  samples: Sample[],
  errors: string[],
): ScenarioContext {
  const log = (message: string) => console.log(`[bench] ${message}`)
  return {
    plan,
    admin,
    repetition,
    log,
    measure: async (scenario, subject, size, run) => {
      const started = performance.now()
      try {
        const figures = await run()
        samples.push({ scenario, subject, size, repetition, figures })
        log(`${scenario} ${subject} ${size} r${repetition}: ${summarize(figures)}`)
        return figures
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        samples.push({ scenario, subject, size, repetition, figures: {}, error: message })
        errors.push(`${scenario} ${subject} ${size} r${repetition}: ${message}`)
        log(`${scenario} ${subject} ${size} r${repetition} failed: ${message}`)
        return undefined
      } finally {
        const seconds = ((performance.now() - started) / 1000).toFixed(1)
        log(`${scenario} ${subject} ${size} r${repetition} took ${seconds} s`)
      }
    },
  }
}

/** Returns the figures most worth a glance in the progress log. */
function summarize(figures: Figures): string {
  const keys = [
    'deliveriesPerSecond',
    'serverCpuUsPerDelivery',
    'latencyP99Ms',
    'ackP99Ms',
    'rssBytesPerConnection',
    'openMs',
    'pageBackMsMax',
    'usPerUpdate',
    'reconnectMs',
    'buildUsPerMessage',
  ]
  return keys
    .filter((key) => figures[key] !== undefined)
    .map((key) => `${key}=${Number(figures[key]).toFixed(1)}`)
    .join(' ')
}

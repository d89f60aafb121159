/**
 * Entry point of `npm run bench`: runs every scenario against every peer on loopback,
 * writes the results and the report.
 *
 *   npm run bench                 full run: bench/results/<date>.json and docs/benchmarks.md
 *   npm run bench -- --quick      small sizes, one repetition, under a minute (CI);
 *                                 writes bench/results/quick/, fails on any error
 *   npm run bench -- --profile    also profiles the Parley server (full runs always do)
 *   npm run bench -- --render F   renders docs/benchmarks.md again from result file F
 */
import fs from 'node:fs'
import path from 'node:path'
import { stopAllProcesses } from './lib/child-process.ts'
import { describeMachine, describeVersions } from './lib/machine.ts'
import { QUICK_RESULTS_DIR, REPORT_PATH, RESULTS_DIR } from './lib/paths.ts'
import { PostgresAdmin } from './lib/postgres.ts'
import { PEERS } from './peers/peer-definitions.ts'
import {
  disposePeerState,
  type PeerState,
  preparePeerState,
  REDIS_URL,
} from './peers/start-peer.ts'
import { checkPlan, FULL_PLAN, QUICK_PLAN } from './plan.ts'
import { writeReport } from './report/write-report.ts'
import type { ProfileSummary, RunResults, Sample } from './results-format.ts'
import { prepareStored, runAllProfiles, runRepetition } from './run-repetitions.ts'

const args = process.argv.slice(2)
const renderIndex = args.indexOf('--render')
if (renderIndex >= 0) {
  const file = args[renderIndex + 1]
  if (!file) throw new Error('--render needs a result file, such as bench/results/2026-01-01.json')
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as RunResults
  writeReport(results, path.relative(path.dirname(REPORT_PATH), file), REPORT_PATH, RESULTS_DIR)
  process.exit(0)
}

const basePlan = args.includes('--quick') ? QUICK_PLAN : FULL_PLAN
const plan = args.includes('--profile') ? { ...basePlan, profile: true } : basePlan
checkPlan(plan)
const started = new Date()
const admin = await PostgresAdmin.connect()
const samples: Sample[] = []
const errors: string[] = []
let profiles: ProfileSummary[] = []
const machine = describeMachine()
const versions = await describeVersions(admin, REDIS_URL)
const abandoned = await admin.dropAbandoned()
if (abandoned.length > 0)
  console.log(`[bench] dropped databases of earlier runs: ${abandoned.join(', ')}`)

// An interrupted run stops its servers and drops its databases before it exits.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: stopping the servers and dropping the databases`)
    void stopAllProcesses()
      .then(() => {
        for (const state of states) disposePeerState(state)
        return admin.dropCreated()
      })
      .finally(() => process.exit(130))
  })
}

const states: PeerState[] = []
try {
  for (const definition of PEERS) states.push(await preparePeerState(definition, admin))
  const stored = await prepareStored(plan, admin, states, samples, errors)
  for (let repetition = 1; repetition <= plan.repetitions; repetition++) {
    await runRepetition(plan, admin, states, stored, repetition, samples, errors)
  }
  if (plan.profile) profiles = await runAllProfiles(plan, admin, states, stored, samples, errors)
} catch (error) {
  errors.push(
    `run aborted: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  )
} finally {
  for (const state of states) disposePeerState(state)
  await admin.dropCreated()
  await admin.close()
}

const finished = new Date()
const results: RunResults = {
  mode: plan.mode,
  plan,
  startedAt: started.toISOString(),
  finishedAt: finished.toISOString(),
  durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
  machine,
  versions,
  peers: PEERS.map(({ id, label, configuration }) => ({ id, label, configuration })),
  samples,
  profiles,
  errors,
}

const outputDir = plan.mode === 'quick' ? QUICK_RESULTS_DIR : RESULTS_DIR
fs.mkdirSync(outputDir, { recursive: true })
const resultFile = path.join(
  outputDir,
  plan.mode === 'quick'
    ? 'results.json'
    : `${started.toISOString().slice(0, 16).replace(':', '')}.json`,
)
fs.writeFileSync(resultFile, `${JSON.stringify(results, null, 2)}\n`)
const reportPath =
  plan.mode === 'quick' ? path.join(QUICK_RESULTS_DIR, 'benchmarks.md') : REPORT_PATH
writeReport(results, path.relative(path.dirname(reportPath), resultFile), reportPath, outputDir)

console.log(`[bench] ${plan.mode} run took ${results.durationSeconds} s; results in ${resultFile}`)
console.log(`[bench] report in ${reportPath}`)
if (errors.length > 0) {
  console.error(`[bench] ${errors.length} errors:\n${errors.join('\n')}`)
  process.exit(1)
}
process.exit(0)

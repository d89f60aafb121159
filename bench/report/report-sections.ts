import type { RunResults } from '../results-format.ts'
import { aggregate, formatAggregate, formatNumber } from './aggregate.ts'

/** Renders the Yjs and Automerge comparison, with the reasons for Parley's choice. */
export function documentCostSection(results: RunResults): string[] {
  const size = results.plan.docCostMessages
  const figure = (library: 'yjs' | 'automerge', name: string) =>
    aggregate(results, 'doc-cost', library, size, name)
  const rows = [
    ['build, µs per message', 'buildUsPerMessage', 1],
    ['saved document, bytes per message', 'encodedBytesPerMessage', 1],
    ['saved document, MB', 'encodedBytes', 1e-6],
    ['load, ms', 'loadMs', 1],
    ['memory of the loaded document (heap and external), MB', 'heapBytes', 1e-6],
  ] as const
  const lines = [
    '## Yjs and Automerge',
    '',
    `The same history of ${formatNumber(size)} messages (id, authorId, text, createdAt; one writer; one Yjs transaction or Automerge commit per message) built, saved whole and loaded whole, each library in a fresh process (bench/scenarios/doc-cost-worker.ts). Yjs writes with sendMessage; Automerge writes through its backend (insertObject and commit), because its change() function got slower with every message: ${formatAggregate(figure('automerge', 'changeApiUsPerMessage'))} µs per message over the first 2,000 messages.`,
    '',
    '| figure | Yjs | Automerge | Automerge / Yjs |',
    '| --- | ---: | ---: | ---: |',
  ]
  for (const [label, name, scale] of rows) {
    const yjs = figure('yjs', name)
    const automerge = figure('automerge', name)
    const ratio = yjs && automerge ? formatNumber(automerge.median / yjs.median) : 'n/a'
    lines.push(
      `| ${label} | ${formatAggregate(yjs, 3, scale)} | ${formatAggregate(automerge, 3, scale)} | ${ratio} |`,
    )
  }
  const ratio = (name: string) => {
    const yjs = figure('yjs', name)?.median
    const automerge = figure('automerge', name)?.median
    return yjs && automerge ? automerge / yjs : Number.NaN
  }
  return [
    ...lines,
    '',
    `In this run Automerge took ${formatNumber(ratio('buildUsPerMessage'))}× Yjs's time to build the history and ${formatNumber(ratio('loadMs'))}× its time to load it, held ${formatNumber(ratio('heapBytes'))}× its memory once loaded, and saved ${formatNumber(ratio('encodedBytes'))}× its bytes.`,
    '',
    `Why Parley uses Yjs: its sync server, provider and Redis relay (Hocuspocus) and its browser storage (y-indexeddb) are built on Yjs, and each Yjs item carries its writer's client id, which lets the server check the authorship of an update before it applies it (the authorship check above). ${leadSentence(ratio)}`,
    '',
  ]
}

/** States which library measured better on each figure; ratios are Automerge over Yjs. */
function leadSentence(ratio: (name: string) => number): string {
  const figures = [
    ['build time', 'buildUsPerMessage'],
    ['load time', 'loadMs'],
    ['memory once loaded', 'heapBytes'],
    ['saved size', 'encodedBytes'],
  ] as const
  const yjsAhead = figures.filter(([, name]) => ratio(name) > 1).map(([label]) => label)
  const automergeAhead = figures.filter(([, name]) => ratio(name) < 1).map(([label]) => label)
  const list = (labels: string[]) => (labels.length > 0 ? labels.join(', ') : 'none')
  return `Measured here, Yjs is ahead on ${list(yjsAhead)}; Automerge on ${list(automergeAhead)}.`
}

/** Renders what took the CPU time of the profiled Parley server. */
export function profileSection(results: RunResults): string[] {
  if (results.profiles.length === 0) return []
  const lines = [
    '## Profile',
    '',
    "CPU profiles of the Parley server process, taken with V8's profiler (the one behind `node --cpu-prof`) through the inspector around the measured work only, summarized by self time: the function on top of the stack. Idle time is left out. The profile files are in bench/.cache/profiles after a full run.",
    '',
  ]
  for (const profile of results.profiles) {
    const origins = profile.byOrigin.slice(0, 8)
    const leading = origins
      .slice(0, 3)
      .map((origin) => `${origin.origin} (${formatNumber(origin.share * 100, 2)}%)`)
    const heaviest = profile.topFunctions
      .slice(0, 3)
      .map((entry) => `${entry.name} (${formatNumber(entry.share * 100, 2)}%)`)
    lines.push(
      `### ${profile.title}`,
      '',
      `${formatNumber(profile.totalMs / 1000)} s of CPU. Most self time went to ${leading.join(', then ')}. The heaviest functions were ${heaviest.join(', ')}.`,
      '',
      '| origin | self ms | share |',
      '| --- | ---: | ---: |',
      ...origins.map(
        (origin) =>
          `| ${origin.origin} | ${formatNumber(origin.ms)} | ${formatNumber(origin.share * 100, 2)}% |`,
      ),
      '',
      '| function | location | self ms | share |',
      '| --- | --- | ---: | ---: |',
      ...profile.topFunctions.map(
        (entry) =>
          `| ${entry.name} | ${entry.location || 'native'} | ${formatNumber(entry.ms)} | ${formatNumber(entry.share * 100, 2)}% |`,
      ),
      '',
    )
  }
  return lines
}

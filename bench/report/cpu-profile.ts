import fs from 'node:fs'
import path from 'node:path'
import { ROOT } from '../lib/paths.ts'
import type { ProfileSummary } from '../results-format.ts'

/** The parts of a V8 .cpuprofile file that the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  samples: number[]
  timeDeltas: number[]
}

/** Functions listed in a summary. */
const TOP_FUNCTIONS = 15

/**
 * Summarizes a .cpuprofile by self time: each sample's interval is charged to the function
 * on top of the stack. Idle time is left out of the total.
 */
export function summarizeProfile(title: string, file: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const byFunction = new Map<
    string,
    { name: string; location: string; origin: string; us: number }
  >()
  let totalUs = 0

  profile.samples.forEach((nodeId, index) => {
    const frame = nodes.get(nodeId)
    const us = profile.timeDeltas[index] ?? 0
    if (!frame || frame.functionName === '(idle)') return
    totalUs += us
    const location = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ''
    const key = `${frame.functionName}@${location}`
    const entry = byFunction.get(key) ?? {
      name: frame.functionName || '(anonymous)',
      location,
      origin: originOf(frame.functionName, frame.url),
      us: 0,
    }
    entry.us += us
    byFunction.set(key, entry)
  })

  const byOrigin = new Map<string, number>()
  for (const entry of byFunction.values()) {
    byOrigin.set(entry.origin, (byOrigin.get(entry.origin) ?? 0) + entry.us)
  }
  const share = (us: number) => (totalUs > 0 ? us / totalUs : 0)
  return {
    title,
    file: path.relative(ROOT, file),
    totalMs: totalUs / 1000,
    byOrigin: [...byOrigin.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([origin, us]) => ({ origin, ms: us / 1000, share: share(us) })),
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, TOP_FUNCTIONS)
      .map(({ name, location, us }) => ({ name, location, ms: us / 1000, share: share(us) })),
  }
}

/** Names where a function comes from: a package, Parley's code, Node, or the VM. */
function originOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection'
  if (functionName === '(program)') return 'VM and native code'
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (packageMatch?.[1]) return packageMatch[1]
  if (url.includes('/sync-server/')) return 'Parley sync-server'
  if (url.includes('/shared/')) return 'Parley shared'
  if (url.startsWith('node:')) return 'Node.js internals'
  if (url === '') return 'native (no script)'
  return 'other'
}

function shortUrl(url: string): string {
  const withoutScheme = url.replace(/^file:\/\//, '')
  const packageIndex = withoutScheme.lastIndexOf('node_modules/')
  if (packageIndex >= 0) return withoutScheme.slice(packageIndex + 'node_modules/'.length)
  return path.relative(ROOT, withoutScheme) || withoutScheme
}

import { startNode } from '../lib/child-process.ts'
import type { Figures } from '../load/protocol.ts'

/**
 * Runs a bench worker script in its own Node process and returns the figures that it
 * prints as JSON on its last line of output. Throws with the output when the worker fails.
 */
export async function runWorker(
  script: string,
  args: string[],
  options: { nodeArgs?: string[]; timeoutMs: number },
): Promise<Figures> {
  const worker = startNode(script, [
    ...(options.nodeArgs ?? []),
    '--import',
    'tsx',
    script,
    ...args,
  ])
  const timer = setTimeout(() => void worker.stop(), options.timeoutMs)
  const code = await worker.exited
  clearTimeout(timer)
  const output = worker.outputTail().trim()
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}:\n${output}`)
  const lastLine = output.slice(output.lastIndexOf('\n') + 1)
  return JSON.parse(lastLine) as Figures
}

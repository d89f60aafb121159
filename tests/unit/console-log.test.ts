import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { routeConsoleToLog } from '../../sync-server/observability/console-log.ts'

/** pino's numbers of the levels. */
const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const

interface LogLine {
  level: number
  event: string
  subsystem: string
  msg: string
}

/**
 * Routes a console of its own to a logger at debug level, keeping the log lines and the
 * calls that reach the console itself.
 */
function routedConsole() {
  const lines: LogLine[] = []
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  )
  const consoleCalls: string[] = []
  const record = (...args: unknown[]) => {
    consoleCalls.push(args.map(String).join(' '))
  }
  const target = { error: record, warn: record, log: record, info: record, debug: record }
  const restore = routeConsoleToLog(logger, target)
  return { lines, consoleCalls, target, restore }
}

/** Creates an error as the sync server throws it to refuse a connection or an update. */
function refusal(reason: string): Error {
  return Object.assign(new Error(reason), { reason })
}

describe('routeConsoleToLog', () => {
  it('logs library errors as errors', () => {
    const { lines, target } = routedConsole()

    target.error('WebSocket error for peer:', 7)

    expect(lines).toHaveLength(1)
    expect(lines[0]?.level).toBe(LEVEL.error)
    expect(lines[0]?.event).toBe('library_output')
    expect(lines[0]?.subsystem).toBe('library')
    expect(lines[0]?.msg).toBe('WebSocket error for peer: 7')
  })

  it('maps each console method to its level', () => {
    const { lines, target } = routedConsole()

    target.warn('w')
    target.log('l')
    target.info('i')
    target.debug('d')

    expect(lines.map((line) => line.level)).toEqual([
      LEVEL.warn,
      LEVEL.info,
      LEVEL.info,
      LEVEL.debug,
    ])
  })

  it('logs refusals at debug level', () => {
    const { lines, target } = routedConsole()

    target.error(
      'closing connection 5f43 (while handling conv:a) because of exception',
      refusal('invalid_update'),
    )
    target.error(refusal('forbidden'))
    target.error('[beforeSync]', 'invalid_update')
    target.error('[onAuthenticate]', 'not_authenticated')

    expect(lines.map((line) => line.level)).toEqual(Array<number>(4).fill(LEVEL.debug))
    expect(lines[0]?.event).toBe('library_refusal_output')
    expect(lines[0]?.msg).toContain('invalid_update')
  })

  it('keeps other hook failures as errors', () => {
    const { lines, target } = routedConsole()

    target.error('[onStoreDocument]', 'connection refused')
    target.error('[onStoreDocument]', 'unknown_reason')
    target.error(Object.assign(new Error('lost'), { reason: 'unknown_reason' }))

    expect(lines.map((line) => line.level)).toEqual(Array<number>(3).fill(LEVEL.error))
  })

  it('restores the console', () => {
    const { lines, consoleCalls, target, restore } = routedConsole()
    target.error('routed')

    restore()
    target.error('direct')

    expect(lines.map((line) => line.msg)).toEqual(['routed'])
    expect(consoleCalls).toEqual(['direct'])
  })
})

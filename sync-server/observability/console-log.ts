import { format } from 'node:util'
import { parseCloseReason } from '../../shared/errors.ts'
import type { Logger } from './logger.ts'

/** Console methods that libraries write through, with the log level of each. */
const CONSOLE_LEVELS = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  info: 'info',
  debug: 'debug',
} as const

type ConsoleMethod = keyof typeof CONSOLE_LEVELS

/** The line that Hocuspocus's hook chain writes when a hook throws: `[hookName] message`. */
const HOOK_FAILURE = /^\[(\w+)\] (\w+)$/

/**
 * Sends what libraries write with console methods to the structured log, one line per call,
 * so that the server's output stays JSON. Hocuspocus writes a refused connection or update
 * with console.error, stack included. The server has logged the refusal as sync_refused
 * already, so those lines go out at debug level. Returns a function that restores the console.
 */
export function routeConsoleToLog(
  logger: Logger,
  target: Pick<Console, ConsoleMethod> = console,
): () => void {
  const log = logger.child({ subsystem: 'library' })
  const originals = Object.getOwnPropertyDescriptors(target)
  for (const method of Object.keys(CONSOLE_LEVELS) as ConsoleMethod[]) {
    const level = CONSOLE_LEVELS[method]
    target[method] = (...args: unknown[]) => {
      const text = format(...args)
      if (isRefusal(args, text)) log.debug({ event: 'library_refusal_output' }, text)
      else log[level]({ event: 'library_output' }, text)
    }
  }
  return () => {
    for (const method of Object.keys(CONSOLE_LEVELS) as ConsoleMethod[]) {
      const original = originals[method]
      if (original) Object.defineProperty(target, method, original)
    }
  }
}

/**
 * Returns whether a console call reports a refusal: an error that carries a known close
 * reason, or a hook failure whose message is one.
 */
function isRefusal(args: unknown[], text: string): boolean {
  const hookFailure = HOOK_FAILURE.exec(text)
  if (hookFailure && parseCloseReason(hookFailure[2]) !== undefined) return true
  return args.some(
    (arg) =>
      arg instanceof Error &&
      parseCloseReason((arg as Error & { reason?: unknown }).reason) !== undefined,
  )
}

import { vi } from 'vitest'

/**
 * Lines that Hocuspocus 4.7 writes with console.error when a sync hook refuses an update
 * with one of the given reasons: the hook chain names the hook, then the connection closes.
 */
export function refusalLogPattern(reasons: string[]): RegExp {
  const reason = `(${reasons.join('|')})`
  return new RegExp(
    `^(\\[beforeSync\\] ${reason}|closing connection \\S+ \\(while handling \\S+\\) ` +
      `because of exception Error: ${reason})$`,
  )
}

/** Console errors captured since `captureConsoleErrors`, one line per call. */
export interface CapturedErrors {
  lines: string[]
  restore(): void
}

/**
 * Silences console.error and keeps each call's arguments as one line, so that a suite can
 * check at its end that the server logged nothing but what it expected. Vitest clears a
 * spy's recorded calls between tests, so the lines are kept here instead.
 */
export function captureConsoleErrors(): CapturedErrors {
  const lines: string[] = []
  const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '))
  })
  return { lines, restore: () => spy.mockRestore() }
}

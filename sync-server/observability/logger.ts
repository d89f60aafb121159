import pino from 'pino'

export type Logger = pino.Logger

/** Creates the root logger; subsystems take child loggers with `{ subsystem }`. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'parley' },
    redact: ['password', '*.password', 'token', '*.token', 'cookie', '*.cookie'],
  })
}

/** Characters of a client-supplied value that a log line keeps. */
export const MAX_LOGGED_CHARACTERS = 200

/**
 * Cuts a value that a client chose, such as a document name, to MAX_LOGGED_CHARACTERS and
 * notes its full length, so that a client cannot fill the log with one long value.
 */
export function clientValueForLog(value: string): string {
  if (value.length <= MAX_LOGGED_CHARACTERS) return value
  return `${value.slice(0, MAX_LOGGED_CHARACTERS)}… (${value.length} characters)`
}

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

import { type Config, readConfig } from './config.ts'
import { routeConsoleToLog } from './observability/console-log.ts'
import { createLogger } from './observability/logger.ts'
import { startServer } from './server.ts'

let config: Config
try {
  config = readConfig()
} catch (error) {
  // Configuration errors name the variable and the fix; a stack trace adds nothing.
  process.stderr.write(`Parley cannot start: ${(error as Error).message}\n`)
  process.exit(1)
}
const logger = createLogger(config.logLevel)
routeConsoleToLog(logger)

try {
  const server = await startServer(config, logger)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ event: 'server_stopping', signal }, 'stopping')
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ event: 'stop_failed', err: error }, 'failed to stop cleanly')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
} catch (error) {
  logger.fatal({ event: 'start_failed', err: error }, `Parley failed to start: ${String(error)}`)
  process.exit(1)
}

// A hook or library that rejects a promise nobody awaits must not end the server.
process.on('unhandledRejection', (reason) => {
  logger.error({ event: 'unhandled_rejection', err: reason }, 'unhandled promise rejection')
})
process.on('uncaughtException', (error) => {
  logger.error({ event: 'uncaught_exception', err: error }, 'uncaught exception')
})

import { type Config, readConfig } from '../../sync-server/config.ts'
import { createLogger } from '../../sync-server/observability/logger.ts'
import { type ParleyServer, startServer } from '../../sync-server/server.ts'
import { createDatabase, type TestDatabase } from './databases.ts'

/** A server under test with its own database. */
export interface TestServer {
  server: ParleyServer
  database: TestDatabase
  url: string
  /** Restarts on the same database and port. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** Starts a server in this process on a free port, with a fresh database of the given kind. */
export async function startTestServer(
  options: {
    database?: 'pglite' | 'postgres' | TestDatabase
    redisUrl?: string
    config?: Partial<Config>
  } = {},
): Promise<TestServer> {
  const database =
    typeof options.database === 'object'
      ? options.database
      : await createDatabase(options.database ?? 'pglite')
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent')
  const config: Config = {
    ...readConfig({}),
    port: 0,
    host: '127.0.0.1',
    databaseUrl: database.databaseUrl,
    dataDir: database.dataDir,
    redisUrl: options.redisUrl,
    appDir: undefined,
    authAttemptsPerMinute: 100_000,
    ...options.config,
  }
  let server = await startServer(config, logger)
  config.port = server.port
  config.publicOrigins = options.config?.publicOrigins ?? [server.url]

  const handle: TestServer = {
    server,
    database,
    url: server.url,
    restart: async () => {
      await server.close()
      server = await startServer(config, logger)
      handle.server = server
    },
    stop: async () => {
      await server.close()
    },
  }
  return handle
}

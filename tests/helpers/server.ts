import net from 'node:net'
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
  /** Starts again after stop, on the same database and port. */
  start(): Promise<void>
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
  const port = await freePort()
  const config: Config = {
    ...readConfig({}),
    port,
    publicOrigins: [`http://127.0.0.1:${port}`],
    host: '127.0.0.1',
    databaseUrl: database.databaseUrl,
    dataDir: database.dataDir,
    redisUrl: options.redisUrl,
    appDir: undefined,
    authAttemptsPerMinute: 100_000,
    ...options.config,
  }
  let server = await startServer(config, logger)

  const handle: TestServer = {
    server,
    database,
    url: server.url,
    restart: async () => {
      await handle.stop()
      await handle.start()
    },
    stop: async () => {
      await server.close()
    },
    start: async () => {
      server = await startServer(config, logger)
      handle.server = server
    },
  }
  return handle
}

/** Returns a TCP port that is free on the loopback address now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => {
        if (typeof address === 'object' && address) resolve(address.port)
        else reject(new Error('no port was assigned'))
      })
    })
  })
}

import { Redis as RedisSync } from '@hocuspocus/extension-redis'
import { Redis } from 'ioredis'
import type { Logger } from '../observability/logger.ts'

/** Creates the Hocuspocus Redis extension, which relays updates and awareness between instances. */
export function createRedisExtension(redisUrl: string, logger: Logger): RedisSync {
  return new RedisSync({
    createClient: () => {
      const client = new Redis(redisUrl)
      client.on('error', (error) =>
        logger.error({ event: 'redis_error', err: error }, 'sync relay Redis error'),
      )
      return client
    },
  })
}

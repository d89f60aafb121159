import pino from 'pino'
import { describe, expect, it } from 'vitest'
import type { ConnectionRegistry } from '../../sync-server/sync/connection-registry.ts'
import { ControlChannel } from '../../sync-server/sync/control-channel.ts'

describe('ControlChannel', () => {
  it('names Redis when it cannot connect', async () => {
    // Nothing listens on port 1 of the loopback address, so the connection is refused.
    const channel = new ControlChannel({} as ConnectionRegistry, pino({ level: 'silent' }))

    const error: unknown = await channel
      .connect('redis://:secret@127.0.0.1:1')
      .catch((e: unknown) => e)
    channel.close()

    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe('cannot connect to Redis at 127.0.0.1:1; check REDIS_URL')
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Conversation, User } from '../../shared/api.ts'
import { createApiUser, createGroup, requestJson, uniqueName } from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const PASSWORD = 'correct horse battery'
const ROUNDS = 10

describe.each(['pglite', 'postgres'] as const)('concurrent requests on %s', (kind) => {
  let server: TestServer

  beforeAll(async () => {
    server = await startTestServer({ database: kind })
  })
  afterAll(async () => {
    await server.stop()
    await server.database.drop()
  })

  it('admits one of two case-variant signups', async () => {
    const searcher = await createApiUser(server.url, 'searcher')

    for (let round = 0; round < ROUNDS / 2; round++) {
      const lower = uniqueName('alice')
      const upper = `A${lower.slice(1)}`
      const responses = await Promise.all(
        [upper, lower].map((username) =>
          requestJson<{ user?: User; error?: { code: string } }>(
            server.url,
            'POST',
            '/api/auth/signup',
            { body: { username, password: PASSWORD } },
          ),
        ),
      )
      const statuses = responses.map((response) => response.status).sort()
      const loser = responses.find((response) => response.status === 409)
      const found = await searcher.request<{ users: User[] }>('GET', `/api/users?q=${lower}`)

      expect(statuses, `round ${round}`).toEqual([201, 409])
      expect(loser?.body.error?.code, `round ${round}`).toBe('conflict')
      expect(found.body.users, `round ${round}`).toHaveLength(1)
    }
  })

  it('merges crossed direct-chat creations', async () => {
    const pairs = await Promise.all(
      Array.from({ length: ROUNDS }, async () => [
        await createApiUser(server.url, 'ana'),
        await createApiUser(server.url, 'ben'),
      ]),
    )

    for (const [round, [ana, ben]] of pairs.entries()) {
      if (!ana || !ben) throw new Error('creating the test users failed')
      const responses = await Promise.all([
        ana.request<{ conversation: Conversation }>('POST', '/api/conversations', {
          kind: 'direct',
          memberIds: [ben.user.id],
        }),
        ben.request<{ conversation: Conversation }>('POST', '/api/conversations', {
          kind: 'direct',
          memberIds: [ana.user.id],
        }),
      ])
      const ids = new Set(responses.map((response) => response.body.conversation.id))
      const statuses = responses.map((response) => response.status).sort()
      const listed = await ana.request<{ conversations: Conversation[] }>(
        'GET',
        '/api/conversations',
      )

      expect(ids.size, `round ${round}`).toBe(1)
      expect(statuses, `round ${round}`).toEqual([200, 201])
      expect(listed.body.conversations, `round ${round}`).toHaveLength(1)
    }
  })

  // Regression: on Postgres the two removals deadlocked and one of them failed with 500.
  it('keeps an admin after simultaneous leaves', async () => {
    const [ana, ben, cid] = await Promise.all(
      ['ana', 'ben', 'cid'].map((prefix) => createApiUser(server.url, prefix)),
    )
    if (!ana || !ben || !cid) throw new Error('creating the test users failed')

    for (let round = 0; round < ROUNDS / 2; round++) {
      const group = await createGroup(ana, [ben, cid])
      const path = `/api/conversations/${group.id}/members`
      await ana.request('PATCH', `${path}/${ben.user.id}`, { role: 'admin' })

      const responses = await Promise.all([
        ana.request('DELETE', `${path}/${ana.user.id}`),
        ben.request('DELETE', `${path}/${ben.user.id}`),
      ])
      const seen = await cid.request<{ conversation: Conversation }>(
        'GET',
        `/api/conversations/${group.id}`,
      )

      expect(
        responses.map((response) => response.status),
        `round ${round}`,
      ).toEqual([204, 204])
      expect(seen.body.conversation.members, `round ${round}`).toEqual([
        { user: cid.user, role: 'admin' },
      ])
    }
  })
})

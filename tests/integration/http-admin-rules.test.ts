import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Conversation } from '../../shared/api.ts'
import { createApiUser, createGroup } from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let server: TestServer

beforeAll(async () => {
  server = await startTestServer()
})
afterAll(async () => {
  await server.stop()
  await server.database.drop()
})

it('refuses to demote the last admin', async () => {
  const admin = await createApiUser(server.url, 'admin')
  const member = await createApiUser(server.url, 'member')
  const group = await createGroup(admin, [member])

  const demoted = await admin.request<{ error: { code: string } }>(
    'PATCH',
    `/api/conversations/${group.id}/members/${admin.user.id}`,
    { role: 'member' },
  )
  expect(demoted.status).toBe(403)
  expect(demoted.body.error.code).toBe('forbidden')

  const promoted = await admin.request(
    'PATCH',
    `/api/conversations/${group.id}/members/${member.user.id}`,
    {
      role: 'admin',
    },
  )
  expect(promoted.status).toBe(200)
  const stepDown = await admin.request<{ conversation: Conversation }>(
    'PATCH',
    `/api/conversations/${group.id}/members/${admin.user.id}`,
    { role: 'member' },
  )
  expect(stepDown.status).toBe(200)
  const roles = stepDown.body.conversation.members.map((entry) => entry.role)
  expect(roles.filter((role) => role === 'admin')).toHaveLength(1)
})

it('checks membership before the body', async () => {
  const admin = await createApiUser(server.url, 'admin')
  const outsider = await createApiUser(server.url, 'outsider')
  const group = await createGroup(admin, [])

  const renamed = await outsider.request<{ error: { code: string } }>(
    'PATCH',
    `/api/conversations/${group.id}`,
    { title: 42 },
  )
  expect(renamed.status).toBe(404)
  expect(renamed.body.error.code).toBe('not_found')
})

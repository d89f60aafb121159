import type { Conversation, User } from '../../shared/api.ts'
import { mapLimit } from '../lib/concurrency.ts'

/** Password of every bench account. */
const PASSWORD = 'bench password 1'
/** Signups at once: the server hashes each password with Argon2id in its thread pool. */
const SIGNUP_CONCURRENCY = 8

/** An account with a bearer token. */
export interface BenchUser {
  id: string
  username: string
  token: string
}

/** Sends a JSON request to Parley's API and returns the parsed body; throws on an error status. */
async function requestJson<T>(
  baseUrl: string,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path} failed with ${response.status}: ${text}`)
  return JSON.parse(text) as T
}

/** Signs up users numbered from `first` and takes a bearer token for each. */
export function createUsers(baseUrl: string, first: number, count: number): Promise<BenchUser[]> {
  const numbers = Array.from({ length: count }, (_, index) => first + index)
  return mapLimit(numbers, SIGNUP_CONCURRENCY, async (number) => {
    const username = `bench_${process.pid}_${number}`
    const credentials = { username, password: PASSWORD }
    const { user } = await requestJson<{ user: User }>(
      baseUrl,
      'POST',
      '/api/auth/signup',
      credentials,
    )
    const { token } = await requestJson<{ token: string }>(
      baseUrl,
      'POST',
      '/api/auth/token',
      credentials,
    )
    return { id: user.id, username, token }
  })
}

/** Creates a group whose admin is the first user and whose members are the others. */
export async function createGroup(
  baseUrl: string,
  members: BenchUser[],
  title: string,
): Promise<Conversation> {
  const [admin, ...others] = members
  if (!admin) throw new Error('a group needs at least one member')
  const { conversation } = await requestJson<{ conversation: Conversation }>(
    baseUrl,
    'POST',
    '/api/conversations',
    { kind: 'group', title, memberIds: others.map((user) => user.id) },
    admin.token,
  )
  return conversation
}

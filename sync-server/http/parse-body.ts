import type { Context } from 'hono'
import type { z } from 'zod'
import { ApiError } from './api-error.ts'
import type { AppEnv } from './auth-context.ts'

/** Media type of a JSON body, `application/json` or a type with the `+json` suffix. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/

/**
 * Parses a JSON body with a schema; throws invalid_input naming the first bad field. A body
 * sent with another Content-Type is rejected before it is read, so a form or a text/plain
 * body that a foreign page can send without a preflight never reaches a handler.
 */
export async function parseBody<T extends z.ZodType>(
  c: Context<AppEnv>,
  schema: T,
): Promise<z.infer<T>> {
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (!mediaType || !JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ApiError('invalid_input', 'the body must be JSON, sent as application/json')
  }
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    throw new ApiError('invalid_input', 'the body must be a JSON object')
  }
  const result = schema.safeParse(body)
  if (!result.success) {
    const issue = result.error.issues[0]
    const field = issue?.path.join('.') || 'body'
    throw new ApiError('invalid_input', `${field}: ${issue?.message ?? 'invalid'}`)
  }
  // Postgres text cannot store U+0000, so such a string would fail later with a 500. The
  // check runs on the validated data, whose nesting the schema bounds.
  const nulField = findNulString(result.data)
  if (nulField !== undefined) {
    throw new ApiError('invalid_input', `${nulField || 'body'}: must not contain U+0000 (NUL)`)
  }
  return result.data
}

/** Returns the dotted path of the first string in a value that contains U+0000. */
function findNulString(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, item] of Object.entries(value)) {
    const found = findNulString(item, path ? `${path}.${key}` : key)
    if (found !== undefined) return found
  }
  return undefined
}

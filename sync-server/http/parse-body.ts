import type { Context } from 'hono'
import type { z } from 'zod'
import { ApiError } from './api-error.ts'
import type { AppEnv } from './auth-context.ts'

/** Parses a JSON body with a schema; throws invalid_input naming the first bad field. */
export async function parseBody<T extends z.ZodType>(
  c: Context<AppEnv>,
  schema: T,
): Promise<z.infer<T>> {
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
  return result.data
}

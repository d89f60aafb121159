import type { ErrorBody, HttpErrorCode } from '../../../shared/errors.ts'
import { HTTP_ERROR_CODES } from '../../../shared/errors.ts'

/** Code of a failed request: one of the server's error codes, or `network` when it was unreachable. */
export type RequestErrorCode = HttpErrorCode | 'network'

/** A failed API request, carrying the code the UI acts on. */
export class ApiError extends Error {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    readonly status: number,
    /** Seconds from the Retry-After header of a rate_limited response. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Tells whether an error means the server could not be reached. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'network'
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

/**
 * Sends a JSON request to the API on this origin and returns the parsed body.
 * Throws ApiError for error responses and for network failures.
 */
export async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError('network', 'The server could not be reached.', 0)
  }

  if (!response.ok) throw await readError(response)
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

async function readError(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get('Retry-After'))
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined
  const body: unknown = await response.json().catch(() => undefined)

  if (isErrorBody(body)) {
    const { code, message } = body.error
    return new ApiError(code, message, response.status, retryAfterSeconds)
  }
  // A proxy or a server that is starting may respond without the JSON error body.
  const code = response.status === 401 ? 'not_authenticated' : 'internal'
  return new ApiError(code, `Request failed with status ${response.status}.`, response.status)
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false
  const { error } = body
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown; message?: unknown }
  return HTTP_ERROR_CODES.some((known) => known === code) && typeof message === 'string'
}

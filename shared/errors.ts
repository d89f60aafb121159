/** Error codes shared by HTTP error bodies and WebSocket close reasons. */
export const HTTP_ERROR_CODES = [
  'invalid_input',
  'not_authenticated',
  'forbidden',
  'not_found',
  'conflict',
  'too_large',
  'rate_limited',
  'internal',
] as const

export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number]

/** Reasons the sync server gives when it refuses or closes a document connection. */
export const CLOSE_REASONS = [
  'not_authenticated',
  'forbidden',
  'conversation_deleted',
  'invalid_update',
  'client_id_taken',
  'too_large',
  'rate_limited',
  'server_restarting',
] as const

export type CloseReason = (typeof CLOSE_REASONS)[number]

/** HTTP status of each error code. */
export const HTTP_STATUS: Record<HttpErrorCode, number> = {
  invalid_input: 400,
  not_authenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
}

/** Body of every HTTP error response. */
export interface ErrorBody {
  error: { code: HttpErrorCode; message: string; requestId?: string }
}

/** Narrows an unknown close or refusal reason to a known one. */
export function parseCloseReason(reason: unknown): CloseReason | undefined {
  return CLOSE_REASONS.find((known) => known === reason)
}

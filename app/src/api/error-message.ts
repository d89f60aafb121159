import { ApiError } from './http.ts'

/** Returns a sentence for a failed request that the user can act on. */
export function errorMessage(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Try again.'
  switch (error.code) {
    case 'network':
      return 'The server could not be reached. Check your connection and try again.'
    case 'invalid_input':
      return error.message
    case 'not_authenticated':
      return 'Your session has ended. Log in again.'
    case 'forbidden':
      return 'You are not allowed to do that.'
    case 'not_found':
      return 'Not found. It may have been deleted, or you are no longer a member.'
    case 'conflict':
      return error.message
    case 'too_large':
      return 'That is too large for the server.'
    case 'rate_limited':
      return rateLimitedMessage(error.retryAfterSeconds)
    case 'internal':
      return 'Something went wrong on the server. Try again.'
  }
}

/** Returns the message for a rate_limited response, with the wait when the server gave one. */
export function rateLimitedMessage(retryAfterSeconds: number | undefined): string {
  if (retryAfterSeconds === undefined) return 'Too many attempts. Wait a moment and try again.'
  const unit = retryAfterSeconds === 1 ? 'second' : 'seconds'
  return `Too many attempts. Try again in ${retryAfterSeconds} ${unit}.`
}

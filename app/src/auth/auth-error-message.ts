import { errorMessage } from '../api/error-message.ts'
import { ApiError } from '../api/http.ts'

/** Returns the sentence shown under the sign-up or log-in form for a failed request. */
export function authErrorMessage(error: unknown, form: 'signup' | 'login'): string {
  if (error instanceof ApiError) {
    if (error.code === 'conflict') return 'That username is taken'
    if (error.code === 'not_authenticated' && form === 'login') {
      return 'Wrong username or password'
    }
  }
  return errorMessage(error)
}

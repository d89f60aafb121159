import { HTTP_STATUS, type HttpErrorCode } from '../../shared/errors.ts'

/** An expected failure of a request; the error handler turns it into the error body. */
export class ApiError extends Error {
  readonly status: number

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
    this.status = HTTP_STATUS[code]
  }
}

import { sha256 } from '@oslojs/crypto/sha2'
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding'

/** Lifetime of a session or bearer token since its last use. */
export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000
/** A session is extended once less than this remains, so most requests write nothing. */
export const SESSION_RENEW_WITHIN_MS = 15 * 24 * 60 * 60 * 1000

/** Creates a random session token of 160 bits, encoded as 32 base32 characters. */
export function generateSessionToken(): string {
  const bytes = new Uint8Array(20)
  crypto.getRandomValues(bytes)
  return encodeBase32LowerCaseNoPadding(bytes)
}

/** Returns the stored id of a token: its SHA-256 in hex, so a database leak reveals no token. */
export function sessionIdOf(token: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(token)))
}

/** Outcome of checking a session's expiry at a given time. */
export type ExpiryCheck =
  { status: 'expired' } | { status: 'valid' } | { status: 'renew'; expiresAt: Date }

/** Decides whether a session is expired, valid as it is, or due for sliding renewal. */
export function checkExpiry(expiresAt: Date, now: Date): ExpiryCheck {
  const remaining = expiresAt.getTime() - now.getTime()
  if (remaining <= 0) return { status: 'expired' }
  if (remaining < SESSION_RENEW_WITHIN_MS) {
    return { status: 'renew', expiresAt: new Date(now.getTime() + SESSION_LIFETIME_MS) }
  }
  return { status: 'valid' }
}

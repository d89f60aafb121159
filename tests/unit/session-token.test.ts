import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  SESSION_LIFETIME_MS,
  SESSION_RENEW_WITHIN_MS,
  checkExpiry,
  generateSessionToken,
  sessionIdOf,
} from '../../sync-server/auth/session-token.ts'

const DAY_MS = 24 * 60 * 60 * 1000
const NOW = new Date('2026-03-01T12:00:00.000Z')

function after(milliseconds: number): Date {
  return new Date(NOW.getTime() + milliseconds)
}

describe('generateSessionToken', () => {
  it('returns 32 lower-case base32 characters', () => {
    const token = generateSessionToken()
    expect(token).toHaveLength(32)
    expect(token).toMatch(/^[a-z2-7]+$/)
  })

  it('returns a new token each call', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => generateSessionToken()))
    expect(tokens.size).toBe(100)
  })
})

describe('sessionIdOf', () => {
  it('returns the SHA-256 of the token in hex', () => {
    const token = generateSessionToken()
    const expected = createHash('sha256').update(token, 'utf8').digest('hex')
    expect(sessionIdOf(token)).toBe(expected)
  })

  it('differs from the token', () => {
    const token = generateSessionToken()
    expect(sessionIdOf(token)).not.toBe(token)
    expect(sessionIdOf(token)).not.toContain(token)
  })

  it('is stable for one token', () => {
    const token = generateSessionToken()
    expect(sessionIdOf(token)).toBe(sessionIdOf(token))
  })
})

describe('checkExpiry', () => {
  it('has a lifetime of 30 days, renewed within 15', () => {
    expect(SESSION_LIFETIME_MS).toBe(30 * DAY_MS)
    expect(SESSION_RENEW_WITHIN_MS).toBe(15 * DAY_MS)
  })

  it('treats a session past its expiry as expired', () => {
    expect(checkExpiry(after(-1), NOW)).toEqual({ status: 'expired' })
  })

  it('treats a session at its exact expiry as expired', () => {
    expect(checkExpiry(NOW, NOW)).toEqual({ status: 'expired' })
  })

  it('keeps a fresh session as it is', () => {
    expect(checkExpiry(after(SESSION_LIFETIME_MS), NOW)).toEqual({ status: 'valid' })
  })

  it('keeps a session at the edge of the renew window', () => {
    expect(checkExpiry(after(SESSION_RENEW_WITHIN_MS), NOW)).toEqual({ status: 'valid' })
  })

  it('renews a session just inside the renew window', () => {
    const check = checkExpiry(after(SESSION_RENEW_WITHIN_MS - 1), NOW)
    expect(check).toEqual({ status: 'renew', expiresAt: after(SESSION_LIFETIME_MS) })
  })

  it('renews a session one millisecond before expiry', () => {
    const check = checkExpiry(after(1), NOW)
    expect(check).toEqual({ status: 'renew', expiresAt: after(SESSION_LIFETIME_MS) })
  })

  it('renews to a full lifetime from now', () => {
    const check = checkExpiry(after(3 * DAY_MS), NOW)
    expect(check.status).toBe('renew')
    if (check.status !== 'renew') return
    expect(check.expiresAt.getTime() - NOW.getTime()).toBe(SESSION_LIFETIME_MS)
  })
})

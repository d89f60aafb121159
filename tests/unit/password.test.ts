import { describe, expect, it } from 'vitest'
import {
  hashPassword,
  verifyAgainstDummy,
  verifyPassword,
} from '../../sync-server/auth/password.ts'

describe('hashPassword', () => {
  it('produces an Argon2id hash', async () => {
    const hash = await hashPassword('correct horse battery')
    expect(hash.startsWith('$argon2id$')).toBe(true)
  })

  it('does not contain the password', async () => {
    const hash = await hashPassword('correct horse battery')
    expect(hash).not.toContain('correct horse battery')
  })

  it('salts each hash', async () => {
    const first = await hashPassword('correct horse battery')
    const second = await hashPassword('correct horse battery')
    expect(first).not.toBe(second)
  })
})

describe('verifyPassword', () => {
  it('accepts the right password', async () => {
    const hash = await hashPassword('correct horse battery')
    expect(await verifyPassword(hash, 'correct horse battery')).toBe(true)
  })

  it('rejects a wrong password', async () => {
    const hash = await hashPassword('correct horse battery')
    expect(await verifyPassword(hash, 'correct horse battery!')).toBe(false)
  })

  it('rejects a password differing in case', async () => {
    const hash = await hashPassword('correct horse battery')
    expect(await verifyPassword(hash, 'Correct horse battery')).toBe(false)
  })

  it('accepts either of two salted hashes', async () => {
    const first = await hashPassword('correct horse battery')
    const second = await hashPassword('correct horse battery')
    expect(await verifyPassword(first, 'correct horse battery')).toBe(true)
    expect(await verifyPassword(second, 'correct horse battery')).toBe(true)
  })

  it.each([
    ['an empty string', ''],
    ['plain text', 'not a hash'],
    ['a truncated hash', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['a bcrypt hash', '$2b$10$abcdefghijklmnopqrstuu5Fz5X1bXoGm0cL7m0fHn1uQZyB1yN9a'],
  ])('returns false for %s as the hash', async (_label, hash) => {
    await expect(verifyPassword(hash, 'correct horse battery')).resolves.toBe(false)
  })
})

describe('verifyAgainstDummy', () => {
  it('resolves for any password', async () => {
    await expect(verifyAgainstDummy('anything at all')).resolves.toBeUndefined()
  })
})

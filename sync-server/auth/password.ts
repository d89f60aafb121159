import { hash, verify } from '@node-rs/argon2'

/**
 * Hashes a password with Argon2id. The library defaults (19 MiB memory, 2 passes,
 * 1 lane in @node-rs/argon2 2.x) meet the OWASP minimum for Argon2id.
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password)
}

/** Checks a password against a stored hash; a malformed hash counts as a mismatch. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password)
  } catch {
    return false
  }
}

let dummyHash: Promise<string> | undefined

/**
 * Spends the time of one verification on a fixed hash, so that a login for a missing user
 * takes as long as one with a wrong password.
 */
export async function verifyAgainstDummy(password: string): Promise<void> {
  dummyHash ??= hash('parley-dummy-password')
  await verifyPassword(await dummyHash, password)
}

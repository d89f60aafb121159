import type { User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'

// The last signed-in user, so the app opens offline without asking the server who is signed in.
const STORAGE_KEY = 'parley:user'

/** Returns the user stored at the last successful sign-in, or null. */
export function readStoredUser(): User | null {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null')
    if (typeof parsed !== 'object' || parsed === null) return null
    const { id, username, displayName } = parsed as Record<string, unknown>
    if (typeof id !== 'string' || typeof username !== 'string') return null
    if (typeof displayName !== 'string') return null
    return { id: id as UserId, username, displayName }
  } catch {
    return null
  }
}

/** Stores the signed-in user, or removes the stored one when given null. */
export function storeUser(user: User | null): void {
  try {
    if (user) localStorage.setItem(STORAGE_KEY, JSON.stringify(user))
    else localStorage.removeItem(STORAGE_KEY)
  } catch {
    // Without localStorage the app still works online; it only cannot open offline.
  }
}

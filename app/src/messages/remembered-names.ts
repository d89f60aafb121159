import type { User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'

// Names kept per signed-in user. Past this count, the oldest are dropped.
const MAX_NAMES = 2_000

const cache = new Map<UserId, Map<UserId, string>>()

function storageKey(viewerId: UserId): string {
  return `parley:${viewerId}:remembered-names`
}

function load(viewerId: UserId): Map<UserId, string> {
  const cached = cache.get(viewerId)
  if (cached) return cached

  const names = new Map<UserId, string>()
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(storageKey(viewerId)) ?? '[]')
    if (Array.isArray(parsed)) {
      for (const pair of parsed) {
        if (!Array.isArray(pair)) continue
        const [id, name] = pair as unknown[]
        if (typeof id === 'string' && typeof name === 'string') names.set(id as UserId, name)
      }
    }
  } catch {
    // A corrupt or missing entry only costs the names of former members.
  }
  cache.set(viewerId, names)
  return names
}

/** Stores the display names of users seen in a member list, for when they have left. */
export function rememberNames(viewerId: UserId, users: readonly User[]): void {
  const names = load(viewerId)
  let changed = false
  for (const user of users) {
    if (names.get(user.id) === user.displayName) continue
    // Deleting first moves the entry to the end, so the oldest are dropped first.
    names.delete(user.id)
    names.set(user.id, user.displayName)
    changed = true
  }
  if (!changed) return

  for (const id of names.keys()) {
    if (names.size <= MAX_NAMES) break
    names.delete(id)
  }
  try {
    localStorage.setItem(storageKey(viewerId), JSON.stringify([...names]))
  } catch {
    // Without localStorage the names last until the page is closed.
  }
}

/** Returns the last display name this device saw for a user, if any. */
export function rememberedName(viewerId: UserId, userId: UserId): string | undefined {
  return load(viewerId).get(userId)
}

import type { User } from '../../../shared/api.ts'
import { request } from '../api/http.ts'

/** Changes the signed-in user's display name: PATCH /api/me. */
export function updateDisplayName(displayName: string): Promise<{ user: User }> {
  return request('PATCH', '/api/me', { displayName })
}

import { useState } from 'react'
import type { User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'
import { errorMessage } from '../api/error-message.ts'
import { useUserSearch } from '../api/queries.ts'
import { Avatar } from '../ui/Avatar.tsx'
import { useDebouncedValue } from '../ui/use-debounced-value.ts'

// Milliseconds of typing pause before a search request goes out.
const SEARCH_DELAY_MS = 200

/** Test ids of the search field and of each result, unique per screen. */
export interface UserSearchTestIds {
  field: string
  result: string
}

const DEFAULT_TEST_IDS: UserSearchTestIds = { field: 'user-search', result: 'user-result' }

/**
 * Renders a search field with matching users as buttons, leaving out the users in `exclude`.
 * Picking a user empties the field.
 */
export function UserSearch(props: {
  onPick: (user: User) => void
  exclude?: ReadonlySet<UserId>
  disabled?: boolean
  autoFocus?: boolean
  testIds?: UserSearchTestIds
}) {
  const { onPick, exclude, disabled = false, autoFocus = false, testIds = DEFAULT_TEST_IDS } = props
  const [query, setQuery] = useState('')
  const debounced = useDebouncedValue(query, SEARCH_DELAY_MS)
  const search = useUserSearch(debounced)
  const users = search.data?.filter((user) => !exclude?.has(user.id)) ?? []
  const searched = debounced.trim().length > 0 && search.isSuccess

  return (
    <div className="user-search">
      <input
        className="input"
        type="search"
        data-testid={testIds.field}
        placeholder="Search by username or name"
        aria-label="Search users"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        autoFocus={autoFocus}
        disabled={disabled}
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        // Enter inside a form would submit it, so picking a user takes a click or a tap.
        onKeyDown={(event) => event.key === 'Enter' && event.preventDefault()}
      />
      {search.isError && <p className="form-error">{errorMessage(search.error)}</p>}
      {searched && users.length === 0 && <p className="user-search__empty">No users found.</p>}
      {users.length > 0 && (
        <ul className="user-search__results">
          {users.map((user) => (
            <li key={user.id}>
              <button
                type="button"
                className="user-result"
                disabled={disabled}
                onClick={() => {
                  // The picked user leaves the results, so the field starts the next search.
                  setQuery('')
                  onPick(user)
                }}
              >
                <Avatar name={user.displayName} />
                <span className="user-result__names">
                  <span className="user-result__display">{user.displayName}</span>
                  <span className="user-result__username" data-testid={testIds.result}>
                    {user.username}
                  </span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

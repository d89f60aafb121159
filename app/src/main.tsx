import { QueryCache, QueryClient, QueryClientProvider, MutationCache } from '@tanstack/react-query'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { queryKeys } from './api/queries.ts'
import { ApiError } from './api/http.ts'
import { storeUser } from './auth/stored-user.ts'
import { App } from './App.tsx'
import './styles.css'

// Any request that finds the session gone sends the user to log in; local data stays.
function handleError(error: unknown): void {
  if (!(error instanceof ApiError) || error.code !== 'not_authenticated') return
  if (queryClient.getQueryData(queryKeys.me) === null) return
  storeUser(null)
  queryClient.setQueryData(queryKeys.me, null)
}

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError: handleError }),
  mutationCache: new MutationCache({ onError: handleError }),
  defaultOptions: {
    queries: {
      // Requests run even when the browser reports no network, so the app falls back to its
      // stored data from the failure instead of waiting in a paused state.
      networkMode: 'always',
      retry: (failureCount, error) => failureCount < 2 && isRetryable(error),
    },
    mutations: { networkMode: 'always', retry: false },
  },
})

function isRetryable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false
  return error.code === 'internal' || error.code === 'network'
}

const root = document.getElementById('root')
if (!root) throw new Error('index.html lacks the #root element')

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
)

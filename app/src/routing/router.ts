import { useSyncExternalStore } from 'react'
import type { ConversationId } from '../../../shared/ids.ts'
import { Listeners } from '../sync/listeners.ts'

/** The client routes: the conversation list, one conversation, and the two auth forms. */
export type Route =
  | { name: 'home' }
  | { name: 'conversation'; conversationId: ConversationId }
  | { name: 'login' }
  | { name: 'signup' }

const CONVERSATION_PATH = /^\/c\/([a-z0-9-]{8,64})\/?$/

/** Parses a location path into a route; unknown paths show the conversation list. */
export function parseRoute(path: string): Route {
  if (path === '/login') return { name: 'login' }
  if (path === '/signup') return { name: 'signup' }
  const match = CONVERSATION_PATH.exec(path)
  if (match?.[1]) return { name: 'conversation', conversationId: match[1] as ConversationId }
  return { name: 'home' }
}

/** Returns the path of a route. */
export function routePath(route: Route): string {
  switch (route.name) {
    case 'home':
      return '/'
    case 'conversation':
      return `/c/${route.conversationId}`
    case 'login':
      return '/login'
    case 'signup':
      return '/signup'
  }
}

const listeners = new Listeners()
let current = parseRoute(window.location.pathname)

window.addEventListener('popstate', () => {
  current = parseRoute(window.location.pathname)
  listeners.notify()
})

/** Navigates to a route with the History API; `replace` keeps the back stack as it is. */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = routePath(route)
  if (path === window.location.pathname) return
  if (options.replace) window.history.replaceState(null, '', path)
  else window.history.pushState(null, '', path)
  current = parseRoute(path)
  listeners.notify()
}

/** Returns the current route and re-renders when it changes. */
export function useRoute(): Route {
  return useSyncExternalStore(listeners.subscribe, () => current)
}

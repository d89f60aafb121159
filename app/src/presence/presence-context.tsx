import type { ReactNode } from 'react'
import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from 'react'
import type { User } from '../../../shared/api.ts'
import type { UserId } from '../../../shared/ids.ts'
import { PresenceDirectory } from './presence-directory.ts'
import type {
  AwarenessSource,
  SessionPresence,
  SessionPresenceSnapshot,
} from './session-presence.ts'
import { TypingPublisher } from './typing-publisher.ts'

const PresenceContext = createContext<PresenceDirectory | null>(null)

/** Creates the presence directory of the signed-in user; children render once it exists. */
export function PresenceProvider({ user, children }: { user: User; children: ReactNode }) {
  const [directory, setDirectory] = useState<PresenceDirectory | null>(null)
  const { id, displayName } = user

  useEffect(() => {
    const created = new PresenceDirectory({ id, name: displayName })
    setDirectory(created)
    return () => {
      setDirectory(null)
      created.destroy()
    }
    // A new display name goes out through setUser below, so only a new user needs a new
    // directory.
  }, [id])

  useEffect(() => directory?.setUser({ id, name: displayName }), [directory, id, displayName])

  if (!directory) return null
  return <PresenceContext value={directory}>{children}</PresenceContext>
}

function usePresenceDirectory(): PresenceDirectory {
  const directory = useContext(PresenceContext)
  if (!directory) throw new Error('presence hooks must be used inside PresenceProvider')
  return directory
}

/**
 * Returns the presence of a conversation session and publishes this user's state there.
 * Pass the ConversationSession from useConversationSession.
 */
export function useSessionPresence(session: AwarenessSource): SessionPresence {
  const directory = usePresenceDirectory()
  // track() returns the existing entry for the same session, so calling it in render is safe.
  return useMemo(() => directory.track(session), [directory, session])
}

/** Returns who is online and who is typing in a conversation session. */
export function useSessionPresenceSnapshot(session: AwarenessSource): SessionPresenceSnapshot {
  const presence = useSessionPresence(session)
  return useSyncExternalStore(presence.subscribe, presence.getSnapshot)
}

/**
 * Returns a TypingPublisher for the composer of a conversation session. Its flag is cleared
 * when the component unmounts or the session changes.
 */
export function useTypingPublisher(session: AwarenessSource): TypingPublisher {
  const presence = useSessionPresence(session)
  const publisher = useMemo(() => new TypingPublisher(presence), [presence])
  useEffect(() => () => publisher.stop(), [publisher])
  return publisher
}

/** Returns whether a user has a client connected to any conversation open on this device. */
export function useIsOnline(userId: UserId): boolean {
  const directory = usePresenceDirectory()
  const online = useSyncExternalStore(directory.subscribe, directory.getOnline)
  return online.has(userId)
}

import type { ReactNode } from 'react'
import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from 'react'
import type { ConversationId, UserId } from '../../../shared/ids.ts'
import { useSyncClient } from '../sync/sync-context.tsx'
import { DraftWriter } from './draft-writer.ts'
import type { UserDocumentSnapshot } from './user-document.ts'
import { UserDocument } from './user-document.ts'

const UserDocumentContext = createContext<UserDocument | null>(null)

/**
 * Opens the signed-in user's private document on the sync client's socket, for as long as
 * the user stays signed in. Children render only once it exists.
 */
export function UserDocumentProvider(props: {
  userId: UserId
  onNotAuthenticated: () => void
  children: ReactNode
}) {
  const { userId, onNotAuthenticated, children } = props
  const { socket } = useSyncClient()
  const [userDocument, setUserDocument] = useState<UserDocument | null>(null)

  useEffect(() => {
    const created = new UserDocument({ userId, socket, onNotAuthenticated })
    setUserDocument(created)
    return () => {
      setUserDocument(null)
      created.destroy()
    }
  }, [userId, socket, onNotAuthenticated])

  if (!userDocument) return null
  return <UserDocumentContext value={userDocument}>{children}</UserDocumentContext>
}

/** Returns the signed-in user's private document: drafts, mutes and pins. */
export function useUserDocument(): UserDocument {
  const userDocument = useContext(UserDocumentContext)
  if (!userDocument) throw new Error('useUserDocument must be used inside UserDocumentProvider')
  return userDocument
}

/** Returns the drafts, mutes and pins, re-rendering when any of them changes. */
export function useUserDocumentSnapshot(): UserDocumentSnapshot {
  const userDocument = useUserDocument()
  return useSyncExternalStore(userDocument.subscribe, userDocument.getSnapshot)
}

/**
 * Returns a DraftWriter for a conversation's composer, flushed when the conversation changes
 * or the component unmounts. Read the saved draft with useUserDocument().getDraft(id), once
 * the snapshot's `loaded` is true.
 */
export function useDraftWriter(conversationId: ConversationId): DraftWriter {
  const userDocument = useUserDocument()
  const writer = useMemo(
    () => new DraftWriter(userDocument, conversationId),
    [userDocument, conversationId],
  )
  useEffect(() => () => writer.flush(), [writer])
  return writer
}

import { useSessionPresenceSnapshot } from './presence-context.tsx'
import type { AwarenessSource } from './session-presence.ts'
import { typingSentence } from './typing-sentence.ts'

/**
 * Renders "Ana is typing…" for the other users typing in a conversation. Place it between
 * the message list and the composer; it keeps its height when empty so the list does not jump.
 */
export function TypingIndicator({ session }: { session: AwarenessSource }) {
  const { typing } = useSessionPresenceSnapshot(session)
  const sentence = typingSentence(typing)

  return (
    <div className="typing" aria-live="polite">
      {sentence && (
        <p className="typing__text" data-testid="typing-indicator">
          <span className="typing__dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {sentence}
        </p>
      )}
    </div>
  )
}

import { useState } from 'react'
import type { ConversationSession, SyncProblem } from '../sync/conversation-session.ts'
import { describeCloseReason } from '../sync/close-reason-action.ts'

/** Explains why a conversation is not syncing, with a way out where there is one. */
export function SyncProblemNotice(props: {
  problem: SyncProblem | null
  session: ConversationSession
}) {
  const { problem, session } = props
  const [reloading, setReloading] = useState(false)
  if (!problem) return null

  switch (problem.kind) {
    case 'lost_access':
      return (
        <p className="notice notice--warning" data-testid="access-lost" role="alert">
          You no longer have access to this conversation
        </p>
      )
    case 'retrying':
      return (
        <p className="notice" role="status">
          {problem.reason
            ? describeCloseReason(problem.reason)
            : 'The server closed this conversation. Connecting again shortly.'}
        </p>
      )
    case 'rejected':
      return (
        <div className="notice notice--warning" role="alert">
          <p>{describeCloseReason(problem.reason)} Syncing of this conversation has stopped.</p>
          <button
            type="button"
            className="button"
            disabled={reloading}
            onClick={() => {
              setReloading(true)
              void session.reloadFromServer().finally(() => setReloading(false))
            }}
          >
            Reload from the server
          </button>
          <p className="notice__detail">
            This replaces the copy on this device; messages that were not sent are lost.
          </p>
        </div>
      )
  }
}

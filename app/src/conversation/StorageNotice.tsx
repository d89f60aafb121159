import type { ConversationSession } from '../sync/conversation-session.ts'

/**
 * Tells the user that this device's storage quota is used up, so changes to the conversation
 * are not saved on the device. Messages still go to the server while it is reachable.
 */
export function StorageNotice(props: { storageFull: boolean; session: ConversationSession }) {
  const { storageFull, session } = props
  if (!storageFull) return null

  return (
    <div className="notice notice--warning" data-testid="storage-full" role="alert">
      <p>
        This device’s storage is full, so changes to this conversation are not saved on it. They
        still go to the server while you are online. Keep this page open until your messages show as
        sent, or free up space on the device.
      </p>
      <button
        type="button"
        className="button button--small"
        onClick={() => session.dismissStorageFull()}
      >
        Dismiss
      </button>
    </div>
  )
}

import type { CloseReason } from '../../../shared/errors.ts'

/** Client action for a document that the server rejected or closed with a reason. */
export type CloseReasonAction =
  /** Send the user to log in, keeping local data and pending messages. */
  | 'sign_in'
  /** Stop syncing and keep the local copy, read-only. */
  | 'lost_access'
  /** Stop syncing and delete the local copy. */
  | 'deleted'
  /**
   * The server rejected a change as not allowed, so drop the local copy, sync it again from the
   * server and write the unsent messages again as new ones.
   */
  | 'resync'
  /** The server rejected what this device sent, so fail the pending messages and stop syncing. */
  | 'rejected'
  /** Another user's client already uses this Yjs client id, so pick a new one and reconnect. */
  | 'new_client_id'
  /** Reconnect after a delay that grows with each rejection in a row. */
  | 'back_off'
  /** Reconnect at once. */
  | 'reconnect'

/** Maps each close reason of the sync server to the client's action. */
export function closeReasonAction(reason: CloseReason): CloseReasonAction {
  switch (reason) {
    case 'not_authenticated':
      return 'sign_in'
    case 'forbidden':
      return 'lost_access'
    case 'conversation_deleted':
      return 'deleted'
    case 'invalid_update':
      return 'resync'
    case 'too_large':
      return 'rejected'
    case 'client_id_taken':
      return 'new_client_id'
    case 'rate_limited':
      return 'back_off'
    case 'server_restarting':
      return 'reconnect'
  }
}

/** Returns the sentence shown for a failed message or a stopped conversation. */
export function describeCloseReason(reason: CloseReason): string {
  switch (reason) {
    case 'not_authenticated':
      return 'Your session has ended. Log in again to send.'
    case 'forbidden':
    case 'conversation_deleted':
      return 'You no longer have access to this conversation'
    case 'invalid_update':
      return 'The server rejected this change as invalid.'
    case 'too_large':
      return 'The server rejected this change as too large.'
    case 'client_id_taken':
      return 'The server rejected this device’s client id.'
    case 'rate_limited':
      return 'Too many changes at once. Sending again shortly.'
    case 'server_restarting':
      return 'The server is restarting. Sending again shortly.'
  }
}

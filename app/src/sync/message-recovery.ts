import type { CloseReason } from '../../../shared/errors.ts'
import type { MessageId } from '../../../shared/ids.ts'
import type { Resynchronization } from './conversation-snapshot.ts'
import type { DocumentSync } from './document-sync.ts'
import type { UnsentMessage } from './unsent-messages.ts'

/** Own unsent changes of a document whose local copy the server rejected. */
interface RejectedBatch {
  source: DocumentSync
  reason: CloseReason
  /** Own unsent messages read out of the dropped copy. */
  unsent: UnsentMessage[]
  /** State of the dropped copy, for its other own unsent changes. */
  rejectedState: Uint8Array
}

/** Documents that a recovery waits for before it writes messages again. */
export interface RecoveryTargets {
  live: DocumentSync
  /** Document of the open segment, which takes new messages. */
  open: DocumentSync | undefined
  /** Tells whether a message id is in any document in memory. */
  isStored: (id: MessageId) => boolean
}

/**
 * Keeps the own unsent messages of rejected documents until they can be written again as
 * new messages, and their other own unsent changes, such as edits and reactions, until they
 * can be written again into the document synced anew. It waits for the live document to sync, so that the open segment is the
 * server's current one, because a segment closed while this device was offline rejects new
 * messages. It also waits for the open segment and every rejected document to sync, so that
 * a message the server stored before the rejection is found and not written twice.
 */
export class MessageRecovery {
  private batches: RejectedBatch[] = []

  get waiting(): boolean {
    return this.batches.length > 0
  }

  add(
    source: DocumentSync,
    reason: CloseReason,
    unsent: UnsentMessage[],
    rejectedState: Uint8Array,
  ): void {
    this.batches.push({ source, reason, unsent, rejectedState })
  }

  /**
   * Writes the waiting messages into the open segment once every document involved has
   * synced. Returns the outcome, or null while it still waits.
   */
  flush(targets: RecoveryTargets): Resynchronization | null {
    const { live, open, isStored } = targets
    if (this.batches.length === 0 || !live.isSyncedNow) return null
    if (!open?.isSyncedNow || !open.canWrite) return null
    if (!this.batches.every(({ source }) => sourceSettled(source))) return null

    const batches = this.batches
    this.batches = []
    const unsent = batches.flatMap((batch) => batch.unsent)
    const { written, lost } = open.writeAgain(unsent, isStored)
    let rewritten = 0
    for (const { source, rejectedState } of batches) {
      // A source that stopped syncing keeps its changes off the server, as its messages.
      if (source.isSyncedNow && source.canWrite)
        rewritten += source.writeChangesAgain(rejectedState)
    }
    const reason = batches.at(-1)?.reason ?? 'invalid_update'
    return { reason, resent: written.length, lost, rewritten }
  }

  clear(): void {
    this.batches = []
  }
}

// A source that stopped syncing will not sync again; its stored messages cannot be checked.
function sourceSettled(source: DocumentSync): boolean {
  return (
    source.isSyncedNow || (source.syncProblem !== null && source.syncProblem.kind !== 'retrying')
  )
}

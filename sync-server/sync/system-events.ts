import type * as Y from 'yjs'
import { lastMessage, SYSTEM_ROOT, type SystemEvent } from '../../shared/chat-document.ts'
import { type MessageId, newId } from '../../shared/ids.ts'

/** Fields of a system event that the caller supplies. The server adds the id, time and position. */
export type SystemEventInput = Pick<SystemEvent, 'type' | 'actorId' | 'targetId' | 'title' | 'role'>

/**
 * Appends a system event to the live document's `system` root. It carries the server's time
 * and is placed after `afterMessageId`, by default the newest message of the document
 * itself, which is the conversation's newest while the live document is the open segment.
 */
export function appendSystemEvent(
  doc: Y.Doc,
  input: SystemEventInput,
  now: number,
  afterMessageId: MessageId | null = lastMessage(doc)?.id ?? null,
): SystemEvent {
  const event: SystemEvent = {
    id: newId(),
    type: input.type,
    actorId: input.actorId,
    at: now,
    afterMessageId,
  }
  // Optional keys are left out rather than set to undefined, which JSON has no value for.
  if (input.targetId !== undefined) event.targetId = input.targetId
  if (input.title !== undefined) event.title = input.title
  if (input.role !== undefined) event.role = input.role

  const system = doc.getArray<SystemEvent>(SYSTEM_ROOT)
  system.insert(system.length, [event])
  return event
}

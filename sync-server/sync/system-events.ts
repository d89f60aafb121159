import type * as Y from 'yjs'
import { lastMessage, SYSTEM_ROOT, type SystemEvent } from '../../shared/chat-document.ts'
import { newId } from '../../shared/ids.ts'

/** Fields of a system event that the caller supplies. The server adds the id, time and position. */
export type SystemEventInput = Pick<SystemEvent, 'type' | 'actorId' | 'targetId' | 'title' | 'role'>

/**
 * Appends a system event to the document's `system` root. It is placed after the newest
 * message the server has, and carries the server's time.
 */
export function appendSystemEvent(doc: Y.Doc, input: SystemEventInput, now: number): SystemEvent {
  const event: SystemEvent = {
    id: newId(),
    type: input.type,
    actorId: input.actorId,
    at: now,
    afterMessageId: lastMessage(doc)?.id ?? null,
  }
  // Optional keys are left out rather than set to undefined, which JSON has no value for.
  if (input.targetId !== undefined) event.targetId = input.targetId
  if (input.title !== undefined) event.title = input.title
  if (input.role !== undefined) event.role = input.role

  const system = doc.getArray<SystemEvent>(SYSTEM_ROOT)
  system.insert(system.length, [event])
  return event
}

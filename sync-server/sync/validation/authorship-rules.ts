import {
  IMMUTABLE_MESSAGE_KEYS,
  MAX_MENTIONS,
  MAX_MESSAGE_BYTES,
  MESSAGE_KEYS,
  MESSAGES_ROOT,
  type MessageKey,
  READS_ROOT,
  REACTIONS_ROOT,
  isReadMarker,
  parseReactionKey,
  utf8Length,
} from '../../../shared/chat-document.ts'
import type { ItemInfo, StructIndex } from './struct-index.ts'

/** Why an update was rejected; logged and counted, never sent to the client. */
export type Violation = { rule: string; detail?: string }

/** Owners of Yjs client ids during the check of one update. */
export interface Owners {
  /** Returns the owner of a client id, or undefined when it has none. */
  ownerOf(client: number): string | undefined
}

/** Keys every message must have, set when it is created. */
export const REQUIRED_KEYS: readonly MessageKey[] = ['id', 'authorId', 'text', 'createdAt']

/**
 * Checks one new item of a client's update against the schema and authorship rules:
 * a user writes only the document's client roots, creates messages only as themselves,
 * changes only their own messages, and writes reactions and read markers only under their
 * own user id.
 */
export function checkNewItem(
  info: ItemInfo,
  index: StructIndex,
  writer: string,
  owners: Owners,
  clientRoots: readonly string[],
): Violation | undefined {
  if (info.parent.kind === 'item') {
    return checkMessageField(info, index, writer, owners)
  }
  if (!clientRoots.includes(info.parent.name)) {
    return { rule: 'root_not_writable', detail: info.parent.name }
  }
  switch (info.parent.name) {
    case MESSAGES_ROOT:
      if (info.parent.key !== null) return { rule: 'messages_key' }
      if (!info.isMap && !info.deleted) return { rule: 'message_not_map' }
      return undefined
    case REACTIONS_ROOT: {
      const parsed = info.parent.key === null ? undefined : parseReactionKey(info.parent.key)
      if (!parsed) return { rule: 'reaction_key' }
      if (parsed.userId !== writer) return { rule: 'reaction_other_user' }
      if (!info.deleted && !isSingle(info.values, (value) => value === true)) {
        return { rule: 'reaction_value' }
      }
      return undefined
    }
    case READS_ROOT:
      if (info.parent.key !== writer) return { rule: 'read_marker_other_user' }
      if (!info.deleted && !isSingle(info.values, isReadMarker))
        return { rule: 'read_marker_value' }
      return undefined
    default:
      return { rule: 'root_not_writable', detail: info.parent.name }
  }
}

/**
 * Checks that a new message created in the update sets every required key as its writer.
 * `fields` contains the values the update leaves in place, not those it deletes again.
 */
export function checkNewMessage(
  message: ItemInfo,
  fields: Map<string, ItemInfo>,
  writer: string,
): Violation | undefined {
  if (message.deleted) return undefined
  for (const key of REQUIRED_KEYS) {
    if (!fields.has(key)) return { rule: 'message_missing_key', detail: key }
  }
  if (fields.get('authorId')?.values?.[0] !== writer) return { rule: 'message_author' }
  return undefined
}

function checkMessageField(
  info: ItemInfo,
  index: StructIndex,
  writer: string,
  owners: Owners,
): Violation | undefined {
  if (info.parent.kind !== 'item') return undefined
  const container = index.describe(info.parent.id)
  if (!container?.isMap) return { rule: 'nested_type' }
  if (container.parent.kind !== 'root' || container.parent.name !== MESSAGES_ROOT) {
    return { rule: 'nested_type' }
  }
  if (owners.ownerOf(container.id.client) !== writer) return { rule: 'message_of_other_user' }

  const key = info.parent.key
  // A message an admin removed stays removed: its author may still mark it deleted or keep
  // it empty, but not write text or mentions into it again.
  if (isModerated(index, container) && !isClearing(key, info)) {
    return { rule: 'message_moderated' }
  }
  if (key === null || !(key in MESSAGE_KEYS)) return { rule: 'message_key', detail: key ?? '' }
  const field = key as MessageKey
  if (!container.isNew && IMMUTABLE_MESSAGE_KEYS.includes(field)) {
    return { rule: 'message_immutable_key', detail: field }
  }
  if (info.deleted) return undefined
  return checkFieldValue(field, info.values, writer)
}

function isModerated(index: StructIndex, container: ItemInfo): boolean {
  return typeof container.messageId === 'string' && index.isModerated(container.messageId)
}

function isClearing(key: string | null, info: ItemInfo): boolean {
  if (info.deleted) return true
  const value = info.values?.length === 1 ? info.values[0] : undefined
  return (key === 'text' && value === '') || key === 'deleted' || key === 'editedAt'
}

function checkFieldValue(
  field: MessageKey,
  values: unknown[] | undefined,
  writer: string,
): Violation | undefined {
  const value = values?.length === 1 ? values[0] : undefined
  const invalid = { rule: 'message_field_type', detail: field }
  switch (MESSAGE_KEYS[field]) {
    case 'string':
      if (typeof value !== 'string') return invalid
      if (field === 'authorId' && value !== writer) return { rule: 'message_author' }
      if (field === 'text' && exceedsMessageBytes(value)) return { rule: 'message_text_too_large' }
      if (field !== 'text' && value.length > 64) return invalid
      return undefined
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : invalid
    case 'true':
      return value === true ? undefined : invalid
    case 'string[]':
      if (!Array.isArray(value) || value.length > MAX_MENTIONS) return invalid
      return value.every((entry) => typeof entry === 'string' && entry.length <= 64)
        ? undefined
        : invalid
  }
}

function exceedsMessageBytes(text: string): boolean {
  // A UTF-16 code unit takes at most 3 bytes in UTF-8, so a short text needs no encoding.
  return text.length * 3 > MAX_MESSAGE_BYTES && utf8Length(text) > MAX_MESSAGE_BYTES
}

function isSingle(values: unknown[] | undefined, test: (value: unknown) => boolean): boolean {
  return values?.length === 1 && test(values[0])
}

import * as Y from 'yjs'
import { MESSAGES_ROOT } from '../../../shared/chat-document.ts'
import { type Violation, checkNewItem, checkNewMessage } from './authorship-rules.ts'
import type { ClientBindingStore } from './client-bindings.ts'
import { type ItemInfo, StructIndex } from './struct-index.ts'

/** Outcome of checking a client's update before it is applied. */
export type ValidationResult =
  | {
      ok: true
      /** The part of the update the document lacks; undefined when it adds nothing. */
      novel: Uint8Array | undefined
    }
  | { ok: false; reason: 'invalid_update' | 'client_id_taken'; violation: Violation }

/**
 * Checks what an update would change, without applying it to the document or a copy:
 * its new items against the schema and authorship rules, its deletions against the owners
 * of the deleted items, and its client ids against their bindings. Deletions that the
 * document already has pass, since a reconnecting client's sync step 2 repeats them.
 */
export async function validateUpdate(
  doc: Y.Doc,
  documentName: string,
  update: Uint8Array,
  writer: string,
  bindings: ClientBindingStore,
): Promise<ValidationResult> {
  let decoded: ReturnType<typeof Y.decodeUpdate>
  let diff: Uint8Array
  try {
    diff = Y.diffUpdate(update, Y.encodeStateVector(doc))
    decoded = Y.decodeUpdate(diff)
  } catch {
    return reject('invalid_update', { rule: 'undecodable' })
  }

  const clients = new Set<number>()
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Skip)) clients.add(struct.id.client)
  }
  let owners: Map<number, string>
  try {
    const taken = await bindings.bind(documentName, [...clients], writer)
    if (taken.length > 0) {
      return reject('client_id_taken', { rule: 'client_id_taken', detail: String(taken[0]) })
    }
    owners = await bindings.owners(documentName)
  } catch (error) {
    throw new Error('failed to read client id bindings', { cause: error })
  }
  const ownerOf = (client: number) => owners.get(client)

  const index = new StructIndex(doc, decoded.structs)
  const violation = checkItems(index, writer, ownerOf)
  if (violation) return reject('invalid_update', violation)

  const deletes = checkDeletes(decoded.ds, index, writer, ownerOf)
  if ('rule' in deletes) return reject('invalid_update', deletes)

  const changes = decoded.structs.some((struct) => !(struct instanceof Y.Skip)) || deletes.novel
  return { ok: true, novel: changes ? diff : undefined }
}

function checkItems(
  index: StructIndex,
  writer: string,
  ownerOf: (client: number) => string | undefined,
): Violation | undefined {
  const newMessages = new Map<Y.Item, Map<string, ItemInfo>>()
  const fieldsByContainer = new Map<string, Map<string, ItemInfo>>()

  for (const item of index.updateItems()) {
    const violation = checkNewItem(item, index, writer, ownerOf)
    if (violation) return violation
    const info = index.describeNew(item)
    if (!info) return { rule: 'parent_unknown' }
    if (info.parent.kind === 'root' && info.parent.name === MESSAGES_ROOT) {
      const fields = new Map<string, ItemInfo>()
      newMessages.set(item, fields)
      fieldsByContainer.set(idKey(item.id), fields)
    } else if (info.parent.kind === 'item' && info.parent.key !== null) {
      const fields = fieldsByContainer.get(idKey(info.parent.id))
      fields?.set(info.parent.key, info)
    }
  }

  for (const [item, fields] of newMessages) {
    const info = index.describeNew(item)
    if (!info) return { rule: 'parent_unknown' }
    const violation = checkNewMessage(info, fields, writer)
    if (violation) return violation
  }
  return undefined
}

/**
 * Checks the delete set: a user deletes only items of their own client ids and never a
 * message itself (a deleted message keeps its placeholder), while deletions of others'
 * items pass only when the document has them already.
 */
function checkDeletes(
  ds: ReturnType<typeof Y.decodeUpdate>['ds'],
  index: StructIndex,
  writer: string,
  ownerOf: (client: number) => string | undefined,
): Violation | { novel: boolean } {
  let novel = false
  for (const [client, ranges] of ds.clients) {
    const own = ownerOf(client) === writer
    for (const range of ranges) {
      const stored = index.storedItemsInRange(client, range.clock, range.len)
      if (!stored) {
        if (!own) return { rule: 'delete_unknown_item' }
        novel = true
        continue
      }
      for (const struct of stored) {
        if (struct.deleted) continue
        novel = true
        if (!own) return { rule: 'delete_other_user' }
        if (struct instanceof Y.Item && isMessageEntry(struct)) return { rule: 'delete_message' }
      }
    }
  }
  return { novel }
}

function isMessageEntry(item: Y.Item): boolean {
  if (!(item.content instanceof Y.ContentType)) return false
  const parent = item.parent
  return (
    parent instanceof Y.AbstractType &&
    parent._item === null &&
    Y.findRootTypeKey(parent) === MESSAGES_ROOT
  )
}

function idKey(id: Y.ID): string {
  return `${id.client}:${id.clock}`
}

function reject(
  reason: 'invalid_update' | 'client_id_taken',
  violation: Violation,
): ValidationResult {
  return { ok: false, reason, violation }
}

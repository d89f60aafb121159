import * as Y from 'yjs'
import {
  IMMUTABLE_MESSAGE_KEYS,
  MESSAGES_ROOT,
  type MessageKey,
} from '../../../shared/chat-document.ts'
import {
  type Owners,
  type Violation,
  REQUIRED_KEYS,
  checkNewItem,
  checkNewMessage,
} from './authorship-rules.ts'
import { type ClientBindingStore, SERVER_OWNER } from './client-bindings.ts'
import { checkSegment, type DocumentRules, unsegmentedRules } from './document-rules.ts'
import { type DecodedUpdate, decodeNovelUpdate } from './novel-update.ts'
import { OwnerLookup, findHeldByOthers, findUnbound } from './owner-lookup.ts'
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
 * of the deleted items, its new messages against the open segment, and its client ids
 * against their bindings. Deletions that the document already has pass, since a
 * reconnecting client's sync step 2 repeats them. Without `rules`, the document counts as
 * the open segment.
 */
export async function validateUpdate(
  doc: Y.Doc,
  documentName: string,
  update: Uint8Array,
  writer: string,
  bindings: ClientBindingStore,
  rules: DocumentRules = unsegmentedRules(documentName),
): Promise<ValidationResult> {
  const novelUpdate = decodeNovelUpdate(doc, update)
  if ('rule' in novelUpdate) return reject('invalid_update', novelUpdate)
  const { decoded } = novelUpdate

  const clients = clientsOf(decoded)
  let owners: Map<number, string>
  try {
    owners = await bindings.owners(documentName)
    // A client id with items in the document but no owner was either bound by another
    // instance after this one cached the bindings, or wrote before bindings existed (or was
    // stored directly). Reading the bindings again separates the two. An id of the second
    // kind is rejected, since binding it would make its items the writer's.
    let unbound = findUnbound(doc, clients, owners)
    if (unbound !== undefined) {
      owners = await reloadOwners(bindings, documentName)
      unbound = findUnbound(doc, clients, owners)
    }
    if (unbound !== undefined) {
      return reject('client_id_taken', { rule: 'client_id_unbound', detail: String(unbound) })
    }
  } catch (error) {
    throw new Error('failed to read client id bindings', { cause: error })
  }
  const ownedByOther = findHeldByOthers(clients, owners, writer)
  if (ownedByOther !== undefined) {
    return reject('client_id_taken', { rule: 'client_id_taken', detail: String(ownedByOther) })
  }

  // New client ids count as the writer's while the update is checked, and are bound only
  // once it passes, so that a rejected update cannot claim ids that others will use.
  const fresh = new Set<number>()
  for (const client of clients) if (!owners.has(client)) fresh.add(client)
  const context = { doc, decoded, writer, clientRoots: rules.clientRoots }
  let checked = checkUpdate(context, new OwnerLookup(doc, owners, fresh, writer))
  if (checked.missedOwner) {
    // The items of a client id bound on another instance reached this one through Redis after
    // it cached the bindings, so the bindings are read again once before judging the update.
    try {
      owners = await reloadOwners(bindings, documentName)
    } catch (error) {
      throw new Error('failed to read client id bindings', { cause: error })
    }
    checked = checkUpdate(context, new OwnerLookup(doc, owners, fresh, writer))
  }
  if ('rule' in checked.result) return reject('invalid_update', checked.result)

  const changes = clients.size > 0 || checked.result.novel
  if (changes) {
    let segmentViolation: Violation | undefined
    try {
      segmentViolation = await checkSegment(rules, checked.createsMessages)
    } catch (error) {
      throw new Error('failed to read the open segment', { cause: error })
    }
    if (segmentViolation) return reject('invalid_update', segmentViolation)
  }

  if (fresh.size > 0) {
    let taken: number[]
    try {
      taken = await bindings.bind(documentName, [...fresh], writer)
    } catch (error) {
      throw new Error('failed to bind client ids', { cause: error })
    }
    if (taken.length > 0) {
      return reject('client_id_taken', { rule: 'client_id_taken', detail: String(taken[0]) })
    }
  }

  return { ok: true, novel: changes ? novelUpdate.bytes : undefined }
}

/** Returns the client ids of an update's structs, except skips. */
function clientsOf(decoded: DecodedUpdate): Set<number> {
  const clients = new Set<number>()
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Skip)) clients.add(struct.id.client)
  }
  return clients
}

interface CheckContext {
  doc: Y.Doc
  decoded: DecodedUpdate
  writer: string
  clientRoots: readonly string[]
}

/**
 * Checks the items and deletions of an update against one view of the bindings. Reports
 * whether an owner was missing for a client id that has items in the document, and whether
 * the update creates messages.
 */
function checkUpdate(
  context: CheckContext,
  owners: OwnerLookup,
): { result: Violation | { novel: boolean }; missedOwner: boolean; createsMessages: boolean } {
  const { doc, decoded, writer, clientRoots } = context
  const deletedByUpdate = new DeletedRanges(decoded.ds)
  const index = new StructIndex(doc, decoded.structs)
  const items = checkItems(index, writer, owners, deletedByUpdate, clientRoots)
  if ('rule' in items) {
    return { result: items, missedOwner: owners.missedOwner, createsMessages: false }
  }
  const deletes = checkDeletes(decoded.ds, index, writer, owners, items.writes)
  return {
    result: deletes,
    missedOwner: owners.missedOwner,
    createsMessages: items.createsMessages,
  }
}

async function reloadOwners(
  bindings: ClientBindingStore,
  documentName: string,
): Promise<Map<number, string>> {
  bindings.forget(documentName)
  return bindings.owners(documentName)
}

/**
 * Checks every new item, then every new message as a whole. Returns the message keys that the
 * update gives a value that it does not delete again, by container and key, and whether it
 * adds any entry to the messages array, deleted or not.
 */
function checkItems(
  index: StructIndex,
  writer: string,
  owners: Owners,
  deletedByUpdate: DeletedRanges,
  clientRoots: readonly string[],
): Violation | { writes: WrittenKeys; createsMessages: boolean } {
  const newMessages: { info: ItemInfo; fields: Map<string, ItemInfo> }[] = []
  const fieldsByContainer = new Map<Y.Item, Map<string, ItemInfo>>()
  const writes = new WrittenKeys()

  for (const item of index.updateItems()) {
    const info = index.describeNew(item)
    if (!info) return { rule: 'parent_unknown' }
    const violation = checkNewItem(info, index, writer, owners, clientRoots)
    if (violation) return violation
    if (info.parent.kind === 'root' && info.parent.name === MESSAGES_ROOT) {
      const fields = new Map<string, ItemInfo>()
      newMessages.push({ info, fields })
      fieldsByContainer.set(item, fields)
    } else if (info.parent.kind === 'item' && info.parent.key !== null) {
      // A value that the update deletes again (or sends already deleted) leaves the key unset.
      if (info.deleted || deletedByUpdate.has(item.id)) continue
      writes.add(info.parent.id, info.parent.key)
      const container = index.findNew(info.parent.id)
      const fields = container && fieldsByContainer.get(container)
      fields?.set(info.parent.key, info)
    }
  }

  const createdIds = new Set<string>()
  for (const { info, fields } of newMessages) {
    if (deletedByUpdate.has(info.id)) continue
    const violation = checkNewMessage(info, fields, writer)
    if (violation) return violation
    // A second message with an existing id would take that message's place in the index
    // and in moderation, which find messages by id.
    const messageId = fields.get('id')?.values?.[0]
    if (info.deleted || typeof messageId !== 'string') continue
    if (createdIds.has(messageId) || index.hasMessage(messageId)) {
      return { rule: 'message_id_taken' }
    }
    createdIds.add(messageId)
  }
  return { writes, createsMessages: newMessages.length > 0 }
}

/**
 * Tells whether an item is a value that the server wrote into a message of the writer, as
 * moderation does when it empties the text. The author may overwrite such a value, for
 * example when deleting the message, since the message is still theirs.
 */
function isServerFieldOfOwnMessage(struct: Y.Item | Y.GC, writer: string, owners: Owners): boolean {
  if (!(struct instanceof Y.Item) || owners.ownerOf(struct.id.client) !== SERVER_OWNER) {
    return false
  }
  const parent = struct.parent
  if (!(parent instanceof Y.AbstractType) || parent._item === null) return false
  return owners.ownerOf(parent._item.id.client) === writer
}

/**
 * Checks the delete set. A user deletes only items of their own client ids, and never a
 * message itself (a deleted message keeps its placeholder) nor a key set only at creation.
 * Deletions of others' items pass only when the document has them already. A range may
 * reach past the clocks the document has, and its stored part is checked all the same.
 */
function checkDeletes(
  ds: ReturnType<typeof Y.decodeUpdate>['ds'],
  index: StructIndex,
  writer: string,
  owners: Owners,
  writes: WrittenKeys,
): Violation | { novel: boolean } {
  let novel = false
  for (const [client, ranges] of ds.clients) {
    const state = index.storedState(client)
    for (const range of ranges) {
      const end = range.clock + range.len
      if (end > state) {
        // Yjs keeps a deletion of clocks the document lacks and applies it, unchecked, when
        // the items arrive. An update sent just before the client's sync step 2 may delete an
        // item that the step 2 brings, so the writer's own clocks pass.
        // NOTE: the writer's own later items can therefore arrive deleted, such as a message
        // map without a placeholder, or a message without its id, which readers skip.
        if (owners.ownerOf(client) !== writer) return { rule: 'delete_unknown_item' }
        novel = true
      }
      if (range.clock >= state) continue
      const stored = index.storedItemsInRange(
        client,
        range.clock,
        Math.min(end, state) - range.clock,
      )
      for (const struct of stored ?? []) {
        if (struct.deleted) continue
        novel = true
        const ownItem = owners.ownerOf(client) === writer
        if (!ownItem && !isServerFieldOfOwnMessage(struct, writer, owners)) {
          return { rule: 'delete_other_user' }
        }
        if (!(struct instanceof Y.Item)) continue
        const violation = checkDeletedItem(struct, writes)
        if (violation) return violation
      }
    }
  }
  return { novel }
}

/** Checks the deletion of one of the writer's stored items that is not deleted yet. */
function checkDeletedItem(item: Y.Item, writes: WrittenKeys): Violation | undefined {
  if (isMessageEntry(item)) return { rule: 'delete_message' }
  const container = messageOfField(item)
  const key = item.parentSub as MessageKey | null
  if (!container || key === null) return undefined
  if (IMMUTABLE_MESSAGE_KEYS.includes(key)) return { rule: 'message_immutable_key', detail: key }
  // Overwriting a required key deletes its old value, which is fine. Deleting the value
  // without a new one leaves a message that readers skip.
  if (REQUIRED_KEYS.includes(key) && !writes.has(container.id, key)) {
    return { rule: 'message_missing_key', detail: key }
  }
  return undefined
}

/** Returns the message map item that contains a stored item as one of its keys. */
function messageOfField(item: Y.Item): Y.Item | undefined {
  const parent = item.parent
  if (!(parent instanceof Y.Map) || !parent._item) return undefined
  return isMessageEntry(parent._item) ? parent._item : undefined
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

function fieldKey(container: Y.ID, key: string): string {
  return `${idKey(container)}:${key}`
}

/**
 * Message keys that an update gives a value that it does not delete again, by container. The
 * set of keys is built only when a deletion needs it, since most updates delete nothing.
 */
class WrittenKeys {
  private readonly written: { container: Y.ID; key: string }[] = []
  private keys: Set<string> | undefined

  add(container: Y.ID, key: string): void {
    this.written.push({ container, key })
  }

  has(container: Y.ID, key: string): boolean {
    if (!this.keys) {
      this.keys = new Set()
      for (const write of this.written) this.keys.add(fieldKey(write.container, write.key))
    }
    return this.keys.has(fieldKey(container, key))
  }
}

/**
 * The ranges of a decoded delete set, sorted and merged per client for lookups by id. A forged
 * delete set may list ranges out of order or overlapping, and Yjs applies every one of them.
 */
class DeletedRanges {
  private readonly byClient = new Map<number, { clock: number; end: number }[]>()

  constructor(ds: ReturnType<typeof Y.decodeUpdate>['ds']) {
    for (const [client, ranges] of ds.clients) {
      const merged: { clock: number; end: number }[] = []
      for (const range of [...ranges].sort((a, b) => a.clock - b.clock)) {
        const last = merged[merged.length - 1]
        if (last && range.clock <= last.end) last.end = Math.max(last.end, range.clock + range.len)
        else merged.push({ clock: range.clock, end: range.clock + range.len })
      }
      this.byClient.set(client, merged)
    }
  }

  has(id: Y.ID): boolean {
    const ranges = this.byClient.get(id.client)
    if (!ranges) return false
    let low = 0
    let high = ranges.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const range = ranges[middle]
      if (!range) return false
      if (range.end <= id.clock) low = middle + 1
      else if (range.clock > id.clock) high = middle - 1
      else return true
    }
    return false
  }
}

function reject(
  reason: 'invalid_update' | 'client_id_taken',
  violation: Violation,
): ValidationResult {
  return { ok: false, reason, violation }
}

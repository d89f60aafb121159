import * as Y from 'yjs'
import { MODERATION_ROOT } from '../../../shared/chat-document.ts'
import { hasMessageId } from './message-ids.ts'

/** Location of an item: directly in a root, or inside the type created by another item. */
export type ParentRef =
  | { kind: 'root'; name: string; key: string | null }
  | { kind: 'item'; id: Y.ID; key: string | null }

/** Facts the validator needs about an item, whether it is new or already stored. */
export interface ItemInfo {
  id: Y.ID
  length: number
  parent: ParentRef
  /** Whether the item creates a Y.Map. */
  isMap: boolean
  /** Values of an item of plain content, such as a map entry's value. */
  values: unknown[] | undefined
  deleted: boolean
  /** Whether the item comes from the update under check rather than the document. */
  isNew: boolean
  /** Id of the message a stored message map holds, for rules that depend on it. */
  messageId?: unknown
}

/**
 * Looks up items by id in an update and in the current document without applying the update.
 * The update format omits the parent of an item that has an origin, so the parent is taken
 * from the origin (or right origin) item, as Yjs does when it integrates the item.
 */
export class StructIndex {
  private readonly newItems = new Map<number, Y.Item[]>()
  private readonly items: Y.Item[] = []
  private readonly resolved = new Map<Y.Item, ParentRef | null>()
  /** Descriptions of new items, kept because each field of a new message looks up its container. */
  private readonly described = new Map<Y.Item, ItemInfo | undefined>()

  constructor(
    private readonly doc: Y.Doc,
    structs: (Y.Item | Y.GC | Y.Skip)[],
  ) {
    for (const struct of structs) {
      if (!(struct instanceof Y.Item)) continue
      const list = this.newItems.get(struct.id.client)
      if (list) list.push(struct)
      else this.newItems.set(struct.id.client, [struct])
    }
    for (const list of this.newItems.values()) this.items.push(...list)
  }

  /** Returns whether the document has a message with this id, before the update. */
  hasMessage(messageId: string): boolean {
    return hasMessageId(this.doc, messageId)
  }

  /** Returns whether the document has a moderation placeholder for a message id. */
  isModerated(messageId: string): boolean {
    return this.doc.getMap(MODERATION_ROOT).has(messageId)
  }

  /** Returns the items of the update, grouped by client in clock order. */
  updateItems(): readonly Y.Item[] {
    return this.items
  }

  /** Describes a new item of the update; undefined when its parent cannot be found. */
  describeNew(item: Y.Item): ItemInfo | undefined {
    if (this.described.has(item)) return this.described.get(item)
    const parent = this.parentOfNew(item)
    const info: ItemInfo | undefined = parent
      ? {
          id: item.id,
          length: item.length,
          parent,
          isMap: item.content instanceof Y.ContentType && item.content.type instanceof Y.Map,
          values: item.content instanceof Y.ContentAny ? item.content.arr : undefined,
          deleted: item.content instanceof Y.ContentDeleted,
          isNew: true,
        }
      : undefined
    this.described.set(item, info)
    return info
  }

  /** Describes the item that contains an id, in the update or the document. */
  describe(id: Y.ID): ItemInfo | undefined {
    const fresh = this.findNew(id)
    if (fresh) return this.describeNew(fresh)
    const stored = this.findStored(id)
    if (!stored) return undefined
    const parent = parentOfStored(stored)
    if (!parent) return undefined
    return {
      id: stored.id,
      length: stored.length,
      parent,
      isMap: stored.content instanceof Y.ContentType && stored.content.type instanceof Y.Map,
      messageId:
        stored.content instanceof Y.ContentType && stored.content.type instanceof Y.Map
          ? (stored.content.type as Y.Map<unknown>).get('id')
          : undefined,
      values: stored.content instanceof Y.ContentAny ? stored.content.arr : undefined,
      deleted: stored.deleted,
      isNew: false,
    }
  }

  /** Returns the clock after the last item of a client that the document has integrated. */
  storedState(client: number): number {
    return Y.getState(this.doc.store, client)
  }

  /** Returns the stored items that overlap a range of one client's clocks, in clock order. */
  storedItemsInRange(client: number, clock: number, length: number): (Y.Item | Y.GC)[] | undefined {
    const structs = this.doc.store.clients.get(client)
    if (!structs || Y.getState(this.doc.store, client) < clock + length) return undefined
    const result: (Y.Item | Y.GC)[] = []
    let index = Y.findIndexSS(structs, clock)
    for (; index < structs.length; index++) {
      const struct = structs[index]
      if (!struct || struct.id.clock >= clock + length) break
      result.push(struct)
    }
    return result
  }

  /**
   * Finds the parent of a new item by following origins (or right origins) until an item with
   * an explicit parent or a stored item. The walk is iterative and caches every item on the
   * way, because an offline client's update can chain thousands of items. A cycle of origins,
   * which Yjs can never integrate, resolves to null.
   */
  private parentOfNew(item: Y.Item): ParentRef | null {
    // Most items, such as every value set in a map, name their parent, so they need no walk.
    const explicit = explicitParent(item)
    if (explicit) return explicit
    const chain: Y.Item[] = []
    const visited = new Set<Y.Item>()
    let current: Y.Item | undefined = item
    let result: ParentRef | null = null
    while (current) {
      const cached = this.resolved.get(current)
      if (cached !== undefined) {
        result = cached
        break
      }
      if (visited.has(current)) break
      visited.add(current)
      chain.push(current)
      const parent = explicitParent(current)
      if (parent) {
        result = parent
        break
      }
      const neighbour: Y.ID | null = current.origin ?? current.rightOrigin
      if (!neighbour) break
      current = this.findNew(neighbour)
      if (!current) {
        const stored = this.findStored(neighbour)
        result = stored ? parentOfStored(stored) : null
      }
    }
    for (const link of chain) this.resolved.set(link, result)
    return result
  }

  /** Returns the item of the update that contains an id. */
  findNew(id: Y.ID): Y.Item | undefined {
    const list = this.newItems.get(id.client)
    if (!list) return undefined
    let low = 0
    let high = list.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const item = list[middle]
      if (!item) return undefined
      if (item.id.clock + item.length <= id.clock) low = middle + 1
      else if (item.id.clock > id.clock) high = middle - 1
      else return item
    }
    return undefined
  }

  private findStored(id: Y.ID): Y.Item | undefined {
    if (Y.getState(this.doc.store, id.client) <= id.clock) return undefined
    const struct = Y.getItem(this.doc.store, id)
    return struct instanceof Y.Item ? struct : undefined
  }
}

/**
 * Returns the parent that an update names for an item. Updates omit it when the item has an
 * origin.
 */
function explicitParent(item: Y.Item): ParentRef | undefined {
  if (typeof item.parent === 'string') {
    return { kind: 'root', name: item.parent, key: item.parentSub }
  }
  if (item.parent instanceof Y.ID) return { kind: 'item', id: item.parent, key: item.parentSub }
  return undefined
}

function parentOfStored(item: Y.Item): ParentRef | null {
  const parent = item.parent
  if (!(parent instanceof Y.AbstractType)) return null
  const parentItem = parent._item
  if (parentItem) return { kind: 'item', id: parentItem.id, key: item.parentSub }
  return { kind: 'root', name: Y.findRootTypeKey(parent), key: item.parentSub }
}

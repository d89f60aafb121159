import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import {
  MESSAGES_ROOT,
  MODERATION_ROOT,
  READS_ROOT,
  REACTIONS_ROOT,
  SYSTEM_ROOT,
} from '../../shared/chat-document.ts'

/** One client section of a Yjs update: the structs of one client id from a start clock. */
export interface StructSection {
  client: number
  clock: number
  structs: (Y.Item | Y.GC | Y.Skip)[]
}

/** Deleted clock ranges of one client, as `[clock, length]` pairs. */
export interface DeletedRanges {
  client: number
  ranges: [clock: number, length: number][]
}

/**
 * Encodes an update in the Yjs v1 format exactly as given: sections in this order (the same
 * client may appear twice, which Yjs itself never writes), then the delete set. Lets a test
 * build updates that no Y.Doc would produce.
 */
export function encodeUpdate(
  sections: StructSection[],
  deletions: DeletedRanges[] = [],
): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  encoding.writeVarUint(encoder.restEncoder, sections.length)
  for (const section of sections) {
    encoding.writeVarUint(encoder.restEncoder, section.structs.length)
    encoder.writeClient(section.client)
    encoding.writeVarUint(encoder.restEncoder, section.clock)
    for (const struct of section.structs) struct.write(encoder, 0)
  }
  encoding.writeVarUint(encoder.restEncoder, deletions.length)
  for (const { client, ranges } of deletions) {
    encoder.resetDsCurVal()
    encoding.writeVarUint(encoder.restEncoder, client)
    encoding.writeVarUint(encoder.restEncoder, ranges.length)
    for (const [clock, length] of ranges) {
      encoder.writeDsClock(clock)
      encoder.writeDsLen(length)
    }
  }
  return encoder.toUint8Array()
}

/**
 * Builds one item as it appears in an update. An item with an origin or right origin takes
 * its parent and key from that neighbour, so `parent` and `key` are written only without one.
 */
export function forgeItem(
  id: Y.ID,
  options: {
    origin?: Y.ID
    rightOrigin?: Y.ID
    /** A root name or the id of the item that created the parent type. */
    parent?: string | Y.ID
    key?: string
    content: Y.Item['content']
  },
): Y.Item {
  return new Y.Item(
    id,
    null,
    options.origin ?? null,
    null,
    options.rightOrigin ?? null,
    // Y.Item types its parent as a type or an ID; the update encoder also writes a root name.
    (options.parent ?? null) as Y.AbstractType<unknown> | Y.ID | null,
    options.key ?? null,
    options.content,
  )
}

/** Returns the content of an item with one plain JSON value. */
export function anyContent(value: unknown): Y.ContentAny {
  return new Y.ContentAny([value])
}

/** Returns the content of an item that creates an empty Y.Map. */
export function mapContent(): Y.ContentType {
  return new Y.ContentType(new Y.Map())
}

/**
 * Returns a Y.Doc with a copy of a document's state that writes under the given client id.
 * The id is set after the copy because Yjs picks a new one when a remote update brings items
 * of the doc's own id.
 */
export function replicaOf(source: Y.Doc | Uint8Array, clientId: number): Y.Doc {
  const replica = new Y.Doc({ guid: 'replica' })
  Y.applyUpdate(replica, source instanceof Uint8Array ? source : Y.encodeStateAsUpdate(source))
  replica.clientID = clientId
  return replica
}

/** Runs a change on a replica and returns the update it produced, as a client would send it. */
export function changeOf(replica: Y.Doc, change: (doc: Y.Doc) => void): Uint8Array {
  const before = Y.encodeStateVector(replica)
  change(replica)
  return Y.encodeStateAsUpdate(replica, before)
}

const ARRAY_ROOTS = new Set([MESSAGES_ROOT, SYSTEM_ROOT])
const MAP_ROOTS = new Set([REACTIONS_ROOT, READS_ROOT, MODERATION_ROOT])

/** Comparable state of a conversation document: its roots, state vector and delete set. */
export interface DocumentState {
  /** JSON of each root of the schema, empty when the document lacks the root. */
  json: Record<string, unknown>
  /** Roots outside the schema, by name: their map keys and array length. */
  unknownRoots: Record<string, { keys: string[]; length: number }>
  stateVector: Record<string, number>
  /** Deleted ranges by client, as `clock+length` strings. */
  deleted: Record<string, string[]>
}

/**
 * Reads the comparable state of a document. Asks for each root of the schema with its type,
 * which adds an empty root to a document that lacks it but changes none of its content.
 */
export function documentState(doc: Y.Doc): DocumentState {
  const json: Record<string, unknown> = {}
  for (const name of ARRAY_ROOTS) json[name] = sortKeys(doc.getArray(name).toJSON())
  for (const name of MAP_ROOTS) json[name] = sortKeys(doc.getMap(name).toJSON())
  const unknownRoots: DocumentState['unknownRoots'] = {}
  for (const [name, root] of doc.share) {
    if (ARRAY_ROOTS.has(name) || MAP_ROOTS.has(name)) continue
    unknownRoots[name] = { keys: [...root._map.keys()].sort(), length: root._length }
  }
  const stateVector: Record<string, number> = {}
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVector(doc))) {
    stateVector[String(client)] = clock
  }
  const deleted: Record<string, string[]> = {}
  const deleteSet = Y.createDeleteSetFromStructStore(doc.store)
  for (const [client, items] of deleteSet.clients) {
    deleted[String(client)] = items.map((item) => `${item.clock}+${item.len}`)
  }
  return { json, unknownRoots, stateVector, deleted }
}

/**
 * Returns a copy of JSON with the keys of every object sorted. Y.Map lists keys in the order
 * a copy received them, which differs between copies of the same document.
 */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value !== 'object' || value === null) return value
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    sorted[key] = sortKeys((value as Record<string, unknown>)[key])
  }
  return sorted
}

/** Reads the comparable state of a document given as an update, such as the stored one. */
export function updateState(update: Uint8Array | undefined): DocumentState {
  const doc = new Y.Doc()
  if (update) Y.applyUpdate(doc, update)
  return documentState(doc)
}

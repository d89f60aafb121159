import * as Y from 'yjs'
import type { Violation } from './authorship-rules.ts'

/** Structs and delete set of a Yjs update, as `Y.decodeUpdate` returns them. */
export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/** The part of a client's update that a document lacks, decoded and encoded. */
export interface NovelUpdate {
  /** Update bytes that apply exactly the decoded structs and delete set. */
  bytes: Uint8Array
  decoded: DecodedUpdate
}

/**
 * Decodes the part of an update that a document lacks: its structs past the document's state
 * vector and its whole delete set. Rejects an update that cannot be decoded, or that lists a
 * client in more than one section.
 */
export function decodeNovelUpdate(doc: Y.Doc, update: Uint8Array): NovelUpdate | Violation {
  try {
    const decoded = Y.decodeUpdate(update)
    if (repeatsClientSection(update, decoded)) return { rule: 'client_repeated' }
    // A live update usually starts past the document's state for each of its clients. Its
    // diff would then re-encode the same structs and delete set, so the update is used as
    // it is, which saves encoding the diff and decoding it again.
    if (startsPastState(doc, decoded)) return { bytes: update, decoded }
    const diff = Y.diffUpdate(update, Y.encodeStateVector(doc))
    return { bytes: diff, decoded: Y.decodeUpdate(diff) }
  } catch {
    return { rule: 'undecodable' }
  }
}

/**
 * Returns whether an update lists one client in more than one section, or has an empty
 * section. Yjs applies only the last section of a client, while a diff of the update keeps
 * every section, so such an update would be applied differently from how it was checked.
 */
function repeatsClientSection(update: Uint8Array, decoded: DecodedUpdate): boolean {
  const sections = readSectionCount(update)
  const clients = new Set<number>()
  for (const struct of decoded.structs) clients.add(struct.id.client)
  return clients.size !== sections
}

/** Reads the number of client sections, the variable-length integer that starts an update. */
function readSectionCount(update: Uint8Array): number {
  let value = 0
  for (let index = 0; index < update.length && index < 5; index++) {
    const byte = update[index] ?? 0
    value += (byte & 0x7f) * 2 ** (7 * index)
    if (byte < 0x80) return value
  }
  throw new RangeError('the update ends inside its section count')
}

/**
 * Returns whether every struct of an update starts at or past the document's state of its
 * client, and none is a skip, which `Y.diffUpdate` may drop. Then the diff of the update
 * against the document has the same structs and delete set as the update.
 */
function startsPastState(doc: Y.Doc, decoded: DecodedUpdate): boolean {
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) return false
    if (struct.id.clock < Y.getState(doc.store, struct.id.client)) return false
  }
  return true
}

import * as Y from 'yjs'

/**
 * Returns the part of an update that would change a document, or undefined when the
 * document already contains all of it. A reconnecting client's sync step 2 repeats the
 * whole delete set, so most of it is usually known already and need not be stored again.
 */
export function novelPartOf(doc: Y.Doc, update: Uint8Array): Uint8Array | undefined {
  const diff = Y.diffUpdate(update, Y.encodeStateVector(doc))
  const decoded = Y.decodeUpdate(diff)
  if (decoded.structs.length > 0) return diff
  if (decoded.ds.clients.size === 0) return undefined

  const known = Y.createDeleteSetFromStructStore(doc.store)
  for (const [client, ranges] of decoded.ds.clients) {
    const knownRanges = known.clients.get(client) ?? []
    for (const range of ranges) {
      if (!isCovered(knownRanges, range.clock, range.len)) return diff
    }
  }
  return undefined
}

/** Checks whether [clock, clock + len) lies inside the sorted, merged ranges. */
function isCovered(ranges: { clock: number; len: number }[], clock: number, len: number): boolean {
  let low = 0
  let high = ranges.length - 1
  while (low <= high) {
    const middle = (low + high) >> 1
    const range = ranges[middle]
    if (!range) return false
    if (range.clock + range.len <= clock) low = middle + 1
    else if (range.clock > clock) high = middle - 1
    else return clock + len <= range.clock + range.len
  }
  return false
}

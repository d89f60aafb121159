import * as Y from 'yjs'

/**
 * Returns the maps that a transaction inserted into an array and that are still there. It
 * reads the structs that the transaction created, client by client, rather than
 * YEvent.changes, which walks every item of the array on each transaction.
 */
export function insertedMaps(
  transaction: Y.Transaction,
  array: Y.Array<Y.Map<unknown>>,
): Y.Map<unknown>[] {
  const inserted: Y.Map<unknown>[] = []
  for (const [client, after] of transaction.afterState) {
    const before = transaction.beforeState.get(client) ?? 0
    const structs = transaction.doc.store.clients.get(client)
    if (after <= before || !structs) continue
    for (let index = Y.findIndexSS(structs, before); index < structs.length; index++) {
      const struct = structs[index]
      if (!struct || struct.id.clock >= after) break
      if (!(struct instanceof Y.Item) || struct.parent !== array || struct.deleted) continue
      if (struct.content instanceof Y.ContentType && struct.content.type instanceof Y.Map) {
        inserted.push(struct.content.type as Y.Map<unknown>)
      }
    }
  }
  return inserted
}

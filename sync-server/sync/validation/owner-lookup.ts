import * as Y from 'yjs'
import type { Owners } from './authorship-rules.ts'

/** Returns a client id among `clients` that has items in the document but no owner. */
export function findUnbound(
  doc: Y.Doc,
  clients: Set<number>,
  owners: Map<number, string>,
): number | undefined {
  for (const client of clients) {
    if (!owners.has(client) && Y.getState(doc.store, client) > 0) return client
  }
  return undefined
}

/** Returns a client id among `clients` that is bound to another user than the writer. */
export function findHeldByOthers(
  clients: Set<number>,
  owners: Map<number, string>,
  writer: string,
): number | undefined {
  for (const client of clients) {
    const owner = owners.get(client)
    if (owner !== undefined && owner !== writer) return client
  }
  return undefined
}

/**
 * Owners of client ids for one check of an update: the bound ones, and the writer for the
 * update's fresh ids. Records whether an owner was missing for a client id that has items in
 * the document, which a newer view of the bindings may know.
 */
export class OwnerLookup implements Owners {
  missedOwner = false

  constructor(
    private readonly doc: Y.Doc,
    private readonly owners: Map<number, string>,
    private readonly fresh: Set<number>,
    private readonly writer: string,
  ) {}

  ownerOf(client: number): string | undefined {
    const owner = this.owners.get(client)
    if (owner !== undefined) return owner
    if (this.fresh.has(client)) return this.writer
    if (Y.getState(this.doc.store, client) > 0) this.missedOwner = true
    return undefined
  }
}

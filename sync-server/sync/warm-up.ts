import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'

/** Messages of the generated document, about one history segment of the default size. */
const WARM_UP_MESSAGES = 250
/** Rounds over the document; V8 optimizes a function after it has run often enough. */
const WARM_UP_ROUNDS = 3

/**
 * Runs the Yjs work of opening a conversation on a generated document, before the server
 * takes connections: decoding and integrating stored bytes, encoding the state for a client,
 * and reading the messages. V8 compiles and optimizes code when it first runs, so without
 * this the first readers after a start pay for it with every document they open. The
 * document lives only in this call. Returns the time taken in ms.
 */
export function warmUpDocumentCode(): number {
  const started = performance.now()
  const source = new Y.Doc()
  const authorId = 'warmupauthor' as UserId
  for (let index = 0; index < WARM_UP_MESSAGES; index++) {
    sendMessage(source, { authorId, text: `warm-up message ${index}` })
  }
  const stored = Y.encodeStateAsUpdate(source)
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    const loaded = new Y.Doc()
    Y.transact(loaded, () => Y.applyUpdate(loaded, stored))
    Y.encodeStateAsUpdate(loaded, Y.encodeStateVector(new Y.Doc()))
    listMessages(loaded)
    loaded.destroy()
  }
  source.destroy()
  return performance.now() - started
}

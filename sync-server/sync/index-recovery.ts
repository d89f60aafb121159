import type { Logger } from '../observability/logger.ts'
import type { DocumentStore } from '../persistence/document-store.ts'
import type { ChatExtension } from './chat-extension.ts'

/** Documents whose index is checked at start at most, the most recently written first. */
export const RECOVERED_DOCUMENTS = 500

/**
 * Brings the message index up to date with the documents that still have update rows: those
 * loaded when a server last stopped. A server killed between storing messages and indexing
 * them leaves them out of unread counts until their document loads again. Each document
 * is loaded, compared with the index and unloaded again, one at a time, until `stopping`.
 */
export async function recoverMessageIndex(
  store: DocumentStore,
  chat: Pick<ChatExtension, 'reindex'>,
  log: Logger,
  stopping: () => boolean,
): Promise<void> {
  const started = performance.now()
  let names: string[]
  try {
    names = await store.namesWithUpdates(RECOVERED_DOCUMENTS)
  } catch (error) {
    log.error({ event: 'index_recovery_failed', err: error }, 'failed to list documents to index')
    return
  }
  let checked = 0
  for (const name of names) {
    if (stopping()) break
    try {
      await chat.reindex(name)
      checked++
    } catch (error) {
      log.error(
        { event: 'index_recovery_failed', documentName: name, err: error },
        'failed to check the message index of a document',
      )
    }
  }
  log.info(
    { event: 'index_recovered', documents: checked, ms: Math.round(performance.now() - started) },
    'checked the message index of the documents left with update rows',
  )
}

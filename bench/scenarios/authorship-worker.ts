/**
 * Times validateUpdate, Parley's authorship check, in this process: a document of the given
 * size, a ClientBindings on Postgres whose cache is warm, and one new message per author
 * written on a replica, each checked in turn without being applied.
 *
 * Usage: authorship-worker.ts <databaseUrl> <messages> <iterations>
 */
import os from 'node:os'
import * as Y from 'yjs'
import { sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import { openDatabase } from '../../sync-server/persistence/database.ts'
import { ClientBindings } from '../../sync-server/sync/validation/client-bindings.ts'
import { validateUpdate } from '../../sync-server/sync/validation/validate-update.ts'
import { percentile } from '../lib/statistics.ts'
import { AUTHOR_CLIENT_IDS, AUTHOR_IDS, loadOrBuildHistory } from './history.ts'

const [databaseUrl, sizeArgument, iterationsArgument] = process.argv.slice(2)
if (!databaseUrl || !sizeArgument || !iterationsArgument) {
  throw new Error('usage: authorship-worker.ts <databaseUrl> <messages> <iterations>')
}
const size = Number(sizeArgument)
const iterations = Number(iterationsArgument)
const documentName = `conv:benchauthorship${size}r${process.pid}`

const doc = new Y.Doc()
Y.applyUpdate(doc, loadOrBuildHistory(size))
const updates = AUTHOR_CLIENT_IDS.map((clientId, index) => {
  const replica = new Y.Doc()
  replica.clientID = clientId
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc))
  let update: Uint8Array | undefined
  replica.on('update', (bytes: Uint8Array) => {
    update = bytes
  })
  sendMessage(replica, { authorId: AUTHOR_IDS[index] as UserId, text: 'a new message to check' })
  if (!update) throw new Error('sendMessage produced no update')
  return { writer: AUTHOR_IDS[index] as string, update }
})

const database = await openDatabase({ databaseUrl, dataDir: os.tmpdir() })
try {
  const bindings = new ClientBindings(database.db)
  for (const [index, clientId] of AUTHOR_CLIENT_IDS.entries()) {
    await bindings.bind(documentName, [clientId], AUTHOR_IDS[index] as string)
  }
  await bindings.owners(documentName)

  const check = async (index: number) => {
    const { writer, update } = updates[index % updates.length] as (typeof updates)[number]
    const result = await validateUpdate(doc, documentName, update, writer, bindings)
    if (!result.ok) throw new Error(`validateUpdate rejected a valid update: ${result.reason}`)
  }
  // Warm-up, so that the timed calls run optimized code.
  for (let index = 0; index < Math.min(200, iterations); index++) await check(index)

  const micros: number[] = []
  const started = performance.now()
  for (let index = 0; index < iterations; index++) {
    const callStarted = performance.now()
    await check(index)
    micros.push((performance.now() - callStarted) * 1000)
  }
  const totalUs = (performance.now() - started) * 1000
  console.log(
    JSON.stringify({
      usPerUpdate: percentile(micros, 50),
      p99UsPerUpdate: percentile(micros, 99),
      meanUsPerUpdate: totalUs / iterations,
      updateBytes: updates[0]?.update.length ?? 0,
      iterations,
    }),
  )
} finally {
  await database.db.deleteFrom('client_ids').where('document_name', '=', documentName).execute()
  await database.close()
}

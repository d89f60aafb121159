import fs from 'node:fs'
import path from 'node:path'
import * as Y from 'yjs'
import { sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import { CACHE_DIR } from '../lib/paths.ts'

/** Version of the generated history; bump it when the generator changes, to skip old caches. */
const HISTORY_VERSION = 1
/** Yjs client ids of the history's four authors. */
export const AUTHOR_CLIENT_IDS = [1001, 1002, 1003, 1004]
/** Author ids written into the history's messages; they match the schema's id pattern. */
export const AUTHOR_IDS = AUTHOR_CLIENT_IDS.map((id) => `benchauthor${String(id).padStart(9, '0')}`)
/** Time of the first message; each next one is a second later. */
const FIRST_MESSAGE_AT = Date.UTC(2025, 0, 1)

const WORDS = [
  'deploy',
  'review',
  'lunch',
  'the',
  'build',
  'is',
  'green',
  'again',
  'meeting',
  'moved',
  'to',
  'three',
  'please',
  'check',
  'logs',
  'thanks',
  'done',
  'shipping',
  'tomorrow',
  'ok',
]

/** Returns the text of message i: 3 to 14 words, so that lengths vary as in a chat. */
export function historyText(index: number): string {
  const count = 3 + ((index * 7) % 12)
  const words: string[] = []
  for (let k = 0; k < count; k++) words.push(WORDS[(index * 13 + k * 5) % WORDS.length] ?? 'ok')
  return words.join(' ')
}

/** Writes a history of `size` messages with sendMessage, one transaction each, 4 authors in turn. */
export function buildHistory(size: number): Y.Doc {
  const doc = new Y.Doc()
  for (let index = 0; index < size; index++) {
    const author = index % AUTHOR_CLIENT_IDS.length
    doc.clientID = AUTHOR_CLIENT_IDS[author] ?? 0
    sendMessage(doc, {
      authorId: AUTHOR_IDS[author] as UserId,
      text: historyText(index),
      now: FIRST_MESSAGE_AT + index * 1000,
    })
  }
  return doc
}

/**
 * Returns the history of `size` messages as one Yjs update, from bench/.cache when a run
 * built it before (a 1M-message history takes minutes to build).
 */
export function loadOrBuildHistory(size: number): Uint8Array {
  const file = path.join(CACHE_DIR, `history-v${HISTORY_VERSION}-${size}.bin`)
  if (fs.existsSync(file)) return new Uint8Array(fs.readFileSync(file))
  const update = Y.encodeStateAsUpdate(buildHistory(size))
  fs.mkdirSync(CACHE_DIR, { recursive: true })
  const partial = `${file}.${process.pid}.partial`
  fs.writeFileSync(partial, update)
  fs.renameSync(partial, file)
  return update
}

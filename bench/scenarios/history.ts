import fs from 'node:fs'
import path from 'node:path'
import * as Y from 'yjs'
import { OPEN_SEGMENT_KEY, SEGMENTS_ROOT, sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import { CACHE_DIR } from '../lib/paths.ts'

/** Version of the generated history; bump it when the generator changes, to skip old caches. */
const HISTORY_VERSION = 1
/** Yjs client ids of the history's four authors. */
export const AUTHOR_CLIENT_IDS = [1001, 1002, 1003, 1004]
/** Author ids written into the history's messages; they match the schema's id pattern. */
export const AUTHOR_IDS = AUTHOR_CLIENT_IDS.map((id) => `benchauthor${String(id).padStart(9, '0')}`)
/** Yjs client id that writes the live document's open segment number, as the server does. */
export const SERVER_CLIENT_ID = 1000
/** Version of the segmented history files; bump it when their generator or layout changes. */
const SEGMENTED_VERSION = 1
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
  return writeMessages(new Y.Doc(), 0, size)
}

/** Writes the history messages from index first up to end, exclusive, into a document. */
function writeMessages(doc: Y.Doc, first: number, end: number): Y.Doc {
  for (let index = first; index < end; index++) {
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

/** A history split as Parley's server splits it: the live document, then segments 1, 2, ... */
export interface SegmentedHistory {
  /** Segment 0 with the open segment's number written in the live document. */
  live: Uint8Array
  /** Segment n at index n - 1. */
  segments: Uint8Array[]
}

/**
 * Builds a history of `size` messages in segments of `segmentMessages`, the last one open,
 * from bench/.cache when a run built it before.
 */
export function loadOrBuildSegmentedHistory(
  size: number,
  segmentMessages: number,
): SegmentedHistory {
  const file = path.join(
    CACHE_DIR,
    `segmented-v${SEGMENTED_VERSION}-${size}-${segmentMessages}.bin`,
  )
  if (fs.existsSync(file)) return splitParts(new Uint8Array(fs.readFileSync(file)))

  const parts: Uint8Array[] = []
  const segmentCount = Math.max(1, Math.ceil(size / segmentMessages))
  for (let segment = 0; segment < segmentCount; segment++) {
    const first = segment * segmentMessages
    const doc = writeMessages(new Y.Doc(), first, Math.min(size, first + segmentMessages))
    if (segment === 0 && segmentCount > 1) {
      doc.clientID = SERVER_CLIENT_ID
      doc.getMap(SEGMENTS_ROOT).set(OPEN_SEGMENT_KEY, segmentCount - 1)
    }
    parts.push(Y.encodeStateAsUpdate(doc))
  }
  fs.mkdirSync(CACHE_DIR, { recursive: true })
  const partial = `${file}.${process.pid}.partial`
  fs.writeFileSync(partial, joinParts(parts))
  fs.renameSync(partial, file)
  const [live, ...segments] = parts
  return { live: live ?? new Uint8Array(), segments }
}

/** Joins byte arrays, each preceded by its length as a 4-byte big-endian integer. */
function joinParts(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + 4 + part.length, 0)
  const joined = new Uint8Array(total)
  const view = new DataView(joined.buffer)
  let offset = 0
  for (const part of parts) {
    view.setUint32(offset, part.length)
    joined.set(part, offset + 4)
    offset += 4 + part.length
  }
  return joined
}

function splitParts(joined: Uint8Array): SegmentedHistory {
  const view = new DataView(joined.buffer, joined.byteOffset, joined.byteLength)
  const parts: Uint8Array[] = []
  for (let offset = 0; offset < joined.length;) {
    const length = view.getUint32(offset)
    parts.push(joined.subarray(offset + 4, offset + 4 + length))
    offset += 4 + length
  }
  const [live, ...segments] = parts
  return { live: live ?? new Uint8Array(), segments }
}

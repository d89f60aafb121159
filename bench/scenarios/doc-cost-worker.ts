/**
 * Builds, saves and loads the same chat history in one CRDT library and prints the costs.
 * Both libraries get one writer, one change (Yjs transaction, Automerge commit) per message,
 * and messages of the same fields: id, authorId, text, createdAt. Needs --expose-gc.
 *
 * Usage: doc-cost-worker.ts <yjs|automerge> <messages>
 */
import * as Automerge from '@automerge/automerge'
import * as Y from 'yjs'
import { messagesOf, readMessage, sendMessage } from '../../shared/chat-document.ts'
import { newId, type UserId } from '../../shared/ids.ts'
import { historyText } from './history.ts'

/** Messages written through Automerge's change() to show how its cost grows. */
const CHANGE_API_MESSAGES = 2000
const AUTHOR = 'benchauthor000001001'
const FIRST_MESSAGE_AT = Date.UTC(2025, 0, 1)

const [library, sizeArgument] = process.argv.slice(2)
const size = Number(sizeArgument)
if ((library !== 'yjs' && library !== 'automerge') || !(size > 0)) {
  throw new Error('usage: doc-cost-worker.ts <yjs|automerge> <messages>')
}
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with --expose-gc')

/** Heap and off-heap memory (Automerge's WebAssembly memory is off the heap) after a full GC. */
function memoryAfterGc(): number {
  gc?.()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}

function message(index: number) {
  return {
    id: newId(),
    authorId: AUTHOR,
    text: historyText(index),
    createdAt: FIRST_MESSAGE_AT + index * 1000,
  }
}

interface Costs {
  build(): Uint8Array
  load(bytes: Uint8Array): { keep: unknown; newest: number }
}

const yjs: Costs = {
  build: () => {
    const doc = new Y.Doc()
    for (let index = 0; index < size; index++) {
      const { text, createdAt } = message(index)
      sendMessage(doc, { authorId: AUTHOR as UserId, text, now: createdAt })
    }
    return Y.encodeStateAsUpdate(doc)
  },
  load: (bytes) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, bytes)
    const messages = messagesOf(doc)
    return {
      keep: doc,
      newest: readMessage(messages.get(messages.length - 1), doc)?.text.length ?? 0,
    }
  },
}

type ChatDoc = {
  messages: { text: string }[]
}

const automerge: Costs = {
  build: () => {
    // change() updates the materialized document after every call, and its cost per call
    // grows with the document (changeApiUsPerMessage measures it), so the build writes the
    // same operations, one commit per message, through the backend.
    const backend = Automerge.getBackend(Automerge.init<ChatDoc>())
    const list = backend.putObject('_root', 'messages', [])
    backend.commit()
    for (let index = 0; index < size; index++) {
      backend.insertObject(list, index, message(index))
      backend.commit()
    }
    return backend.save()
  },
  load: (bytes) => {
    const doc = Automerge.load<ChatDoc>(bytes)
    return { keep: doc, newest: String(doc.messages[doc.messages.length - 1]?.text ?? '').length }
  },
}

/** Microseconds per message of Automerge's change() over the first messages of a document. */
function changeApiUsPerMessage(): number {
  let doc = Automerge.from<ChatDoc>({ messages: [] })
  const count = Math.min(CHANGE_API_MESSAGES, size)
  const started = performance.now()
  for (let index = 0; index < count; index++) {
    doc = Automerge.change(doc, (draft) => {
      draft.messages.push(message(index))
    })
  }
  return ((performance.now() - started) * 1000) / count
}

const costs = library === 'yjs' ? yjs : automerge
const baseline = memoryAfterGc()
let started = performance.now()
const bytes = costs.build()
const buildMs = performance.now() - started

const beforeLoad = memoryAfterGc()
started = performance.now()
const loaded = costs.load(bytes)
const loadMs = performance.now() - started
const loadedBytes = memoryAfterGc() - beforeLoad
if (!(loaded.newest > 0)) throw new Error(`${library}: the newest message did not load`)

const figures: Record<string, number> = {
  messages: size,
  buildUsPerMessage: (buildMs * 1000) / size,
  encodedBytes: bytes.length,
  encodedBytesPerMessage: bytes.length / size,
  loadMs,
  heapBytes: loadedBytes,
  heapBytesPerMessage: loadedBytes / size,
  baselineBytes: baseline,
}
if (library === 'automerge') figures.changeApiUsPerMessage = changeApiUsPerMessage()
console.log(JSON.stringify(figures))

import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { validateUserDocumentUpdate } from '../../sync-server/sync/validation/user-document-rules.ts'

function updateOf(change: (doc: Y.Doc) => void, base = new Y.Doc()): Uint8Array {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(base))
  const before = Y.encodeStateVector(doc)
  change(doc)
  return Y.encodeStateAsUpdate(doc, before)
}

it('accepts drafts, mutes and pins', () => {
  const server = new Y.Doc()
  const update = updateOf((doc) => {
    doc.getMap('drafts').set('conv1abcdef', 'half a thought')
    doc.getMap('muted').set('conv1abcdef', true)
    doc.getMap('pinned').set('conv1abcdef', 1_700_000_000_000)
  })
  const result = validateUserDocumentUpdate(server, update)
  expect(result.ok).toBe(true)
})

it.each([
  ['an unknown root', (doc: Y.Doc) => doc.getMap('secrets').set('x', 'y'), 'root_not_writable'],
  [
    'a muted value other than true',
    (doc: Y.Doc) => doc.getMap('muted').set('c', 'yes'),
    'user_document_value',
  ],
  [
    'a pinned time that is text',
    (doc: Y.Doc) => doc.getMap('pinned').set('c', 'now'),
    'user_document_value',
  ],
  [
    'a draft that is a number',
    (doc: Y.Doc) => doc.getMap('drafts').set('c', 5),
    'user_document_value',
  ],
  ['an array root', (doc: Y.Doc) => doc.getArray('drafts').insert(0, ['x']), 'root_not_writable'],
  [
    'a nested map',
    (doc: Y.Doc) => doc.getMap('drafts').set('c', new Y.Map()),
    'user_document_value',
  ],
])('rejects %s', (_name, change, rule) => {
  const result = validateUserDocumentUpdate(new Y.Doc(), updateOf(change))
  expect(result).toMatchObject({ ok: false, violation: { rule } })
})

it('rejects undecodable bytes', () => {
  const result = validateUserDocumentUpdate(new Y.Doc(), new Uint8Array([1, 2, 3, 250, 251]))
  expect(result).toMatchObject({ ok: false, violation: { rule: 'undecodable' } })
})

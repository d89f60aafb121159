import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { listMessages, sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import {
  PACK_MAX_BYTES,
  packUpdate,
  UnknownCodecError,
  UpdateCodec,
  unpackUpdate,
} from '../../sync-server/persistence/update-codec.ts'

const AUTHOR = 'codec-author-000001' as UserId

/** Returns the update of one message sent into a fresh document. */
function messageUpdate(text: string): Uint8Array {
  const doc = new Y.Doc()
  let update: Uint8Array | undefined
  doc.on('update', (captured: Uint8Array) => (update = captured))
  sendMessage(doc, { authorId: AUTHOR, text })
  if (!update) throw new Error('sending a message produced no update')
  return update
}

describe('update codec', () => {
  it('stores a chat message compressed and reads it back byte for byte', () => {
    const update = messageUpdate('see you at the standup tomorrow')
    const packed = packUpdate(update)

    expect(packed.codec).toBe(UpdateCodec.deflateWithDictionary)
    expect(packed.data.length).toBeLessThan(update.length * 0.8)
    expect(Buffer.from(unpackUpdate(packed.data, packed.codec))).toEqual(Buffer.from(update))
  })

  it('stores an update as it is when compressing does not make it smaller', () => {
    const noise = new Uint8Array(randomBytes(300))
    const packed = packUpdate(noise)

    expect(packed.codec).toBe(UpdateCodec.plain)
    expect(packed.data).toBe(noise)
  })

  it('leaves updates larger than the limit to the database', () => {
    const update = messageUpdate('x'.repeat(PACK_MAX_BYTES))
    const packed = packUpdate(update)

    expect(packed.codec).toBe(UpdateCodec.plain)
    expect(unpackUpdate(packed.data, packed.codec)).toBe(update)
  })

  // Made with codec 1 when it was released. Rows stored since then must stay readable, so a
  // change to the dictionary fails here.
  it('reads a row stored with codec 1 by an earlier version', () => {
    const stored = Buffer.from(
      'Y2TVQssEWpAMIJxWlF+VmqcLldE1MDAwBEkiOUIIqgQiAlcBtVy4uCS/KDVFoTyzJEMhOT8lNVkBLI0t9TMAAA==',
      'base64',
    )
    const doc = new Y.Doc()
    Y.applyUpdate(doc, unpackUpdate(stored, UpdateCodec.deflateWithDictionary))

    expect(listMessages(doc)).toMatchObject([
      {
        id: 'frozen-message-0001',
        authorId: 'frozen-author-0001',
        text: 'stored with codec 1',
        createdAt: 1_800_000_000_000,
      },
    ])
  })

  it('refuses a codec it does not know with a code', () => {
    const read = () => unpackUpdate(new Uint8Array([1, 2, 3]), 7)

    expect(read).toThrow(UnknownCodecError)
    expect(read).toThrow(expect.objectContaining({ code: 'unknown_update_codec', codec: 7 }))
  })
})

import zlib from 'node:zlib'

/**
 * Codecs of the bytes of an update row. Stored rows keep their codec for good, so a
 * codec, once released, is never changed: a new way of packing gets a new number.
 */
export const UpdateCodec = {
  /** A Yjs update as the client sent it, or a merge of such updates. */
  plain: 0,
  /** The update compressed with raw DEFLATE and the dictionary below. */
  deflateWithDictionary: 1,
} as const

export type UpdateCodec = (typeof UpdateCodec)[keyof typeof UpdateCodec]

/**
 * Largest update that is compressed here. Postgres and PGlite compress a row themselves
 * once it is larger than about 2 KB, and compressing large updates would block the event loop.
 */
export const PACK_MAX_BYTES = 2000

/**
 * Preset dictionary of codec 1: the updates of a sample conversation with a mention, a reply,
 * a reaction, an edit, a deletion, a read marker and a plain message. A row of a few messages
 * mostly repeats these keys and item headers, which DEFLATE alone cannot find in so few bytes:
 * with the dictionary a row of three messages shrinks by about half, without it by a third.
 * Frozen: rows written with codec 1 can be read only with these exact bytes.
 */
const DICTIONARY_V1 = Buffer.from(
  'AQbShdjMBAAHAQhtZXNzYWdlcwEoANKF2MwEAAJpZAF3FG50ZDVndGtmN3dyZGt0czVqemVmKADShdjMBAAIYXV0aG9ySWQB' +
    'dxZhYWFhYWFhYWFhYWFhYWFhYWFhYWFhKADShdjMBAAEdGV4dAF3BWhlbGxvKADShdjMBAAJY3JlYXRlZEF0AXtCejGFxQAA' +
    'ACgA0oXYzAQACG1lbnRpb25zAXUBdxZiYmJiYmJiYmJiYmJiYmJiYmJiYmJiAAEG0oXYzAQGh9KF2MwEAAEoANKF2MwEBgJp' +
    'ZAF3FGZzNnhod3k1Nm1zN2x1YTN2eGxlKADShdjMBAYIYXV0aG9ySWQBdxZhYWFhYWFhYWFhYWFhYWFhYWFhYWFhKADShdjM' +
    'BAYEdGV4dAF3BXJlcGx5KADShdjMBAYJY3JlYXRlZEF0AXtCejGFxQAQACgA0oXYzAQGB3JlcGx5VG8BdxRudGQ1Z3RrZjd3' +
    'cmRrdHM1anplZgABAdKF2MwEDCgBCXJlYWN0aW9uczBudGQ1Z3RrZjd3cmRrdHM1anplZjphYWFhYWFhYWFhYWFhYWFhYWFh' +
    'YWFhOvCfkY0BeAABAtKF2MwEDajShdjMBAkBdwZlZGl0ZWQoANKF2MwEBghlZGl0ZWRBdAF7QnoxhcUAIAAB0oXYzAQBCQEB' +
    'AtKF2MwED6jShdjMBA0BdwAoANKF2MwEBgdkZWxldGVkAXgB0oXYzAQBDQEBAdKF2MwEESgBBXJlYWRzFmFhYWFhYWFhYWFh' +
    'YWFhYWFhYWFhYWEBdgIJbWVzc2FnZUlkdxRudGQ1Z3RrZjd3cmRrdHM1anplZgJhdHtCeiRMSvUAAAABBdKF2MwEEofShdjM' +
    'BAYBKADShdjMBBICaWQBdxRmNnNmNnl0bTdoNWx1YTdwZG1lYygA0oXYzAQSCGF1dGhvcklkAXcWYWFhYWFhYWFhYWFhYWFh' +
    'YWFhYWFhYSgA0oXYzAQSBHRleHQBdwVoZWxsbygA0oXYzAQSCWNyZWF0ZWRBdAF7QnoxhcUAMAAA',
  'base64',
)

/** An update ready to be stored, with the codec that reads it back. */
export interface PackedUpdate {
  data: Uint8Array
  codec: UpdateCodec
}

/** Compresses a small update when that makes it smaller; larger ones are stored as they are. */
export function packUpdate(update: Uint8Array): PackedUpdate {
  if (update.length > PACK_MAX_BYTES) return { data: update, codec: UpdateCodec.plain }
  const packed = zlib.deflateRawSync(update, { dictionary: DICTIONARY_V1 })
  return packed.length < update.length
    ? { data: packed, codec: UpdateCodec.deflateWithDictionary }
    : { data: update, codec: UpdateCodec.plain }
}

/** Returns the Yjs update that a stored row contains; throws on a codec this version lacks. */
export function unpackUpdate(data: Uint8Array, codec: number): Uint8Array {
  if (codec === UpdateCodec.plain) return data
  if (codec === UpdateCodec.deflateWithDictionary) {
    return zlib.inflateRawSync(data, { dictionary: DICTIONARY_V1 })
  }
  throw new UnknownCodecError(codec)
}

/** An update row written by a newer version, with a codec this one cannot read. */
export class UnknownCodecError extends Error {
  readonly code = 'unknown_update_codec'
  constructor(readonly codec: number) {
    super(`update row has codec ${codec}, which this version of Parley cannot read`)
  }
}

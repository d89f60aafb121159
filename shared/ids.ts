declare const brand: unique symbol

type Brand<T, Name extends string> = T & { readonly [brand]: Name }

/** Identifier of a user account. */
export type UserId = Brand<string, 'UserId'>
/** Identifier of a direct chat or group. */
export type ConversationId = Brand<string, 'ConversationId'>
/** Identifier of a message inside a conversation document. */
export type MessageId = Brand<string, 'MessageId'>

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/**
 * Creates a random identifier of 20 base32 characters (100 bits).
 * Uses getRandomValues because randomUUID is missing on plain-HTTP origins.
 */
export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20))
  let id = ''
  for (const byte of bytes) id += ALPHABET[byte & 31]
  return id
}

/** Matches identifiers produced by newId and UUIDs alike. */
export const ID_PATTERN = /^[a-z0-9-]{8,64}$/

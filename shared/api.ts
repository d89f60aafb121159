import { z } from 'zod'
import type { ChatMessage } from './chat-document.ts'
import type { ConversationId, MessageId, UserId } from './ids.ts'

/** A user as the API returns it. */
export interface User {
  id: UserId
  username: string
  displayName: string
}

/** Role of a member in a conversation. Direct chats have members only. */
export type MemberRole = 'admin' | 'member'

/** Kind of a conversation. */
export type ConversationKind = 'direct' | 'group'

/** Preview of the newest message, taken by the server from the stored document. */
export interface MessagePreview {
  authorId: UserId
  text: string
  createdAt: string
}

/** Place of a message in a conversation's history, as the API returns it. */
export interface MessageLocation {
  id: MessageId
  /** History segment whose document contains the message, 0 for the live document. */
  segment: number
  /**
   * The message as that document contains it now, with the text of a deleted or removed
   * message empty. Null when the document lacks it, as when the index and the document
   * disagree.
   */
  content: ChatMessage | null
}

/** A conversation as the API returns it. Times are ISO 8601 strings. */
export interface Conversation {
  id: ConversationId
  kind: ConversationKind
  title: string | null
  members: { user: User; role: MemberRole }[]
  createdAt: string
  lastActivityAt: string
  lastMessage: MessagePreview | null
  /**
   * Messages after the caller's read marker that others wrote, except deleted or removed
   * ones, up to MAX_UNREAD_COUNT.
   */
  unreadCount: number
  /** Of the unread messages, those that mention the caller; of the newest MAX_UNREAD_COUNT. */
  mentionCount: number
  /**
   * History segment that takes new messages. A client without a copy of the live document
   * opens this segment together with it, instead of after reading the number from it.
   */
  openSegment: number
}

/**
 * Largest unreadCount the API returns. Counting stops there so that a conversation with a
 * long unread history costs the list no more than one with a few hundred unread messages.
 */
export const MAX_UNREAD_COUNT = 1000

export const USERNAME_PATTERN = /^[a-z0-9_.-]{3,32}$/i
export const PASSWORD_MIN_LENGTH = 8
/** Upper bound on password length, so hashing cannot be used to burn CPU. */
export const PASSWORD_MAX_LENGTH = 256
export const DISPLAY_NAME_MAX_LENGTH = 64
export const TITLE_MAX_LENGTH = 100
/** Error of a title that is empty once leading and trailing spaces are trimmed. */
const BLANK_TITLE = 'must contain a character other than spaces'
/** Members of one group, the creator included. */
export const GROUP_MAX_MEMBERS = 1000

const username = z
  .string()
  .regex(USERNAME_PATTERN, 'must be 3 to 32 characters of a-z, 0-9, _, . and -')
  .regex(/[a-z0-9]/i, 'must contain a letter or a digit')
const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`)
/** Control, format and bidirectional override characters, which can hide or reorder a name. */
const INVISIBLE_CHARACTERS = /[\p{Cc}\p{Cf}\u2028\u2029]/u

const displayName = z
  .string()
  .trim()
  .min(1)
  .max(DISPLAY_NAME_MAX_LENGTH)
  .refine((value) => !INVISIBLE_CHARACTERS.test(value), {
    message: 'must not contain control, format or direction characters',
  })
/** A zero-width joiner between two emoji, as in the family or a profession emoji. */
const EMOJI_JOINER =
  /(\p{Extended_Pictographic}\uFE0F?[\u{1F3FB}-\u{1F3FF}]?)\u200D(?=\p{Extended_Pictographic})/gu
/** A flag made of tag characters after the black flag, as the flag of Scotland. */
const EMOJI_TAG_FLAG = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu
/**
 * Characters that show as blank although Unicode counts them as letters or symbols: the
 * Hangul fillers and the blank Braille pattern.
 */
const BLANK_LOOKING = /[\u115F\u1160\u3164\uFFA0\u2800]/u
/** Private use, unassigned and noncharacter code points, which show as boxes or nothing. */
const UNDEFINED_CHARACTERS = /[\p{Co}\p{Cn}]/u
/** More than four combining marks in a row, which stack into lines above or below. */
const STACKED_MARKS = /\p{M}{5,}/u
/** A character that shows as something: a letter, a digit, a symbol or punctuation. */
const VISIBLE_CHARACTER = /[\p{L}\p{N}\p{S}\p{P}]/u

/**
 * Returns why a group title cannot be shown as it is, or undefined when it can. The check of
 * display names applies, except for the joiners and tags inside emoji.
 */
function titleProblem(title: string): string | undefined {
  const plain = title.replace(EMOJI_JOINER, '$1').replace(EMOJI_TAG_FLAG, '\u{1F3F4}')
  if (INVISIBLE_CHARACTERS.test(plain)) {
    return 'must not contain control, format or direction characters'
  }
  if (BLANK_LOOKING.test(plain) || UNDEFINED_CHARACTERS.test(plain)) {
    return 'must not contain blank-looking, private use or unassigned characters'
  }
  if (STACKED_MARKS.test(plain)) return 'must not stack more than four combining marks'
  if (!VISIBLE_CHARACTER.test(plain)) return 'must contain a letter, a digit or a symbol'
  return undefined
}

const title = z
  .string()
  .trim()
  .min(1, BLANK_TITLE)
  .max(TITLE_MAX_LENGTH)
  .superRefine((value, context) => {
    const problem = titleProblem(value)
    if (problem) context.addIssue({ code: 'custom', message: problem })
  })
const id = z.string().regex(/^[a-z0-9-]{8,64}$/, 'must be an id')

export const signupBody = z.strictObject({
  username,
  password,
  displayName: displayName.optional(),
})
export const credentialsBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
})
export const updateMeBody = z.strictObject({ displayName })
export const createConversationBody = z.strictObject({
  kind: z.enum(['direct', 'group']),
  title: title.optional(),
  memberIds: z.array(id).max(GROUP_MAX_MEMBERS),
})
export const updateConversationBody = z.strictObject({ title })
export const addMemberBody = z.strictObject({ userId: id })
export const updateMemberBody = z.strictObject({ role: z.enum(['admin', 'member']) })

export type SignupBody = z.infer<typeof signupBody>
export type CredentialsBody = z.infer<typeof credentialsBody>
export type CreateConversationBody = z.infer<typeof createConversationBody>

/** Response of POST /api/auth/token. */
export interface TokenResponse {
  token: string
  expiresAt: string
}

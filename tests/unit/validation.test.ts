import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  USERNAME_PATTERN,
  addMemberBody,
  createConversationBody,
  credentialsBody,
  signupBody,
  updateConversationBody,
  updateMeBody,
  updateMemberBody,
} from '../../shared/api.ts'
import { ApiError } from '../../sync-server/http/api-error.ts'
import type { AppEnv } from '../../sync-server/http/auth-context.ts'
import { parseBody } from '../../sync-server/http/parse-body.ts'

const PASSWORD = 'correct horse battery'

describe('username', () => {
  it.each([
    ['3 characters', 'abc'],
    ['32 characters', 'a'.repeat(32)],
    ['digits only', '123'],
    ['underscore, dot and hyphen', 'a_b.c-d'],
    ['upper case', 'Alice'],
    ['mixed case', 'aLiCe_99'],
  ])('accepts %s', (_label, username) => {
    expect(USERNAME_PATTERN.test(username)).toBe(true)
    expect(signupBody.safeParse({ username, password: PASSWORD }).success).toBe(true)
  })

  it.each([
    ['2 characters', 'ab'],
    ['33 characters', 'a'.repeat(33)],
    ['an empty string', ''],
    ['a space', 'ali ce'],
    ['a leading space', ' alice'],
    ['an at sign', 'alice@example'],
    ['a slash', 'al/ice'],
    ['an accented letter', 'alicé'],
    ['a Cyrillic letter', 'аlice'],
    ['a newline at the end', 'alice\n'],
    ['a NUL character', 'ali\u0000ce'],
  ])('rejects %s', (_label, username) => {
    expect(USERNAME_PATTERN.test(username)).toBe(false)
    expect(signupBody.safeParse({ username, password: PASSWORD }).success).toBe(false)
  })

  it('rejects a non-string', () => {
    expect(signupBody.safeParse({ username: 12345, password: PASSWORD }).success).toBe(false)
  })
})

describe('password', () => {
  it('rejects 7 characters', () => {
    expect(signupBody.safeParse({ username: 'alice', password: '1234567' }).success).toBe(false)
  })

  it('accepts 8 characters', () => {
    expect(signupBody.safeParse({ username: 'alice', password: '12345678' }).success).toBe(true)
  })

  it('accepts 256 characters', () => {
    const password = 'p'.repeat(256)
    expect(signupBody.safeParse({ username: 'alice', password }).success).toBe(true)
  })

  it('rejects 257 characters', () => {
    const password = 'p'.repeat(257)
    expect(signupBody.safeParse({ username: 'alice', password }).success).toBe(false)
  })

  it('is required at signup', () => {
    expect(signupBody.safeParse({ username: 'alice' }).success).toBe(false)
  })

  it('is not checked for length at login', () => {
    const result = credentialsBody.safeParse({ username: 'alice', password: 'short' })
    expect(result.success).toBe(true)
  })
})

describe('displayName', () => {
  it('is optional at signup', () => {
    expect(signupBody.safeParse({ username: 'alice', password: PASSWORD }).success).toBe(true)
  })

  it('is trimmed', () => {
    const result = updateMeBody.safeParse({ displayName: '  Alice  ' })
    expect(result.data).toEqual({ displayName: 'Alice' })
  })

  it('rejects only spaces', () => {
    expect(updateMeBody.safeParse({ displayName: '   ' }).success).toBe(false)
  })

  it('rejects 65 characters', () => {
    expect(updateMeBody.safeParse({ displayName: 'd'.repeat(65) }).success).toBe(false)
  })
})

describe('conversation bodies', () => {
  it('accepts a group with a title', () => {
    const body = { kind: 'group', title: 'Team', memberIds: ['abcdefgh12345678'] }
    expect(createConversationBody.safeParse(body).success).toBe(true)
  })

  it('rejects an unknown kind', () => {
    const body = { kind: 'channel', memberIds: [] }
    expect(createConversationBody.safeParse(body).success).toBe(false)
  })

  it('rejects a malformed member id', () => {
    const body = { kind: 'direct', memberIds: ['Robert); drop table users'] }
    expect(createConversationBody.safeParse(body).success).toBe(false)
  })

  it('rejects an empty title', () => {
    expect(updateConversationBody.safeParse({ title: '  ' }).success).toBe(false)
  })

  it.each([
    ['a bell', 'a\u0007b', 'control'],
    ['a line break', 'a\nb', 'control'],
    ['a right-to-left override', '\u202Eevil', 'control'],
    ['a zero-width space', 'a\u200Bb', 'control'],
    ['only a zero-width joiner', '\u200D\u200D', 'control'],
    ['a joiner between letters', 'a\u200Db', 'control'],
    ['only tag characters', '\u{E0041}\u{E0042}', 'control'],
    ['tags after a word', 'Team\u{E0069}\u{E0067}\u{E006E}', 'control'],
    ['a Hangul filler', '\u3164', 'blank-looking'],
    ['a blank Braille pattern', '\u2800\u2800', 'blank-looking'],
    ['a private use character', 'a\uE000', 'blank-looking'],
    ['a noncharacter', 'a\uFFFF', 'blank-looking'],
    ['stacked combining marks', `a${'\u0301'.repeat(9)}`, 'stack'],
    ['only combining marks', '\u0301\u0302', 'a letter'],
  ])('rejects a title with %s', (_case, title, problem) => {
    const result = updateConversationBody.safeParse({ title })
    expect(result.error?.issues[0]?.message).toContain(problem)
    expect(createConversationBody.safeParse({ kind: 'group', title, memberIds: [] }).success).toBe(
      false,
    )
  })

  it.each([
    ['a family emoji', 'Home \u{1F468}\u200D\u{1F469}\u200D\u{1F467}'],
    ['a skin tone in a joined emoji', '\u{1F469}\u{1F3FD}\u200D\u{1F4BB} team'],
    [
      'the flag of Scotland',
      '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} trip',
    ],
    ['Arabic', '\u0641\u0631\u064A\u0642'],
    ['a combining accent', 'Cafe\u0301'],
    ['Devanagari', '\u0928\u092E\u0938\u094D\u0924\u0947'],
    ['only an emoji', '\u{1F389}'],
  ])('accepts a title with %s', (_case, title) => {
    expect(updateConversationBody.safeParse({ title }).success).toBe(true)
  })

  it('rejects a role other than admin or member', () => {
    expect(updateMemberBody.safeParse({ role: 'owner' }).success).toBe(false)
  })
})

describe('extra fields', () => {
  it.each([
    ['signup', signupBody, { username: 'alice', password: PASSWORD, admin: true }],
    ['login', credentialsBody, { username: 'alice', password: PASSWORD, remember: true }],
    ['profile', updateMeBody, { displayName: 'Alice', username: 'mallory' }],
    ['new conversation', createConversationBody, { kind: 'group', memberIds: [], owner: 'x' }],
    ['rename', updateConversationBody, { title: 'Team', kind: 'direct' }],
    ['new member', addMemberBody, { userId: 'abcdefgh12345678', role: 'admin' }],
    ['role change', updateMemberBody, { role: 'admin', userId: 'abcdefgh12345678' }],
  ])('are rejected in the %s body', (_label, schema, body) => {
    expect(schema.safeParse(body).success).toBe(false)
  })
})

describe('parseBody', () => {
  const app = new Hono<AppEnv>()
  app.post('/signup', async (c) => c.json(await parseBody(c, signupBody)))
  app.onError((error, c) => {
    if (!(error instanceof ApiError)) throw error
    return c.json({ code: error.code, status: error.status, message: error.message }, 400)
  })

  async function post(body: string) {
    const response = await app.request('/signup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    return (await response.json()) as Record<string, unknown>
  }

  it('returns the parsed body', async () => {
    const body = await post(JSON.stringify({ username: 'alice', password: PASSWORD }))
    expect(body).toEqual({ username: 'alice', password: PASSWORD })
  })

  it('raises invalid_input on malformed JSON', async () => {
    const body = await post('{"username": "alice",')
    expect(body.code).toBe('invalid_input')
    expect(body.status).toBe(400)
  })

  it('names the invalid field', async () => {
    const body = await post(JSON.stringify({ username: 'al', password: PASSWORD }))
    expect(body.code).toBe('invalid_input')
    expect(body.message).toMatch(/^username: /)
  })

  it('names an unknown field', async () => {
    const body = await post(JSON.stringify({ username: 'alice', password: PASSWORD, admin: true }))
    expect(body.code).toBe('invalid_input')
    expect(body.message).toContain('admin')
  })

  it('raises invalid_input on a JSON array', async () => {
    const body = await post('[]')
    expect(body.code).toBe('invalid_input')
    expect(body.message).toMatch(/^body: /)
  })
})

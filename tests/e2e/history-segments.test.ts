import * as decoding from 'lib0/decoding'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { User } from '../../shared/api.ts'
import type { ChatMessage } from '../../shared/chat-document.ts'
import {
  listMessages,
  listReactions,
  messagesOf,
  openSegment,
  sendMessage,
  setReadMarker,
} from '../../shared/chat-document.ts'
import { conversationDocumentName, segmentDocumentName } from '../../shared/document-names.ts'
import type { ConversationId, MessageId } from '../../shared/ids.ts'
import {
  APP_DIR,
  launchBrowser,
  localDatabases,
  openConversation,
  PHONE,
  requestFromPage,
  sendInApp,
  signUpInApp,
} from '../helpers/browser.ts'
import type { SyncClient } from '../helpers/clients.ts'
import {
  API_USER_PASSWORD,
  openDocument,
  requestJson,
  uniqueName,
  waitFor,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

// Messages per history segment on the server under test: small, so that a few dozen
// messages make several segments.
const SEGMENT_MESSAGES = 6
// Time in milliseconds for a change to reach the other member's page. Two cores shared with
// other test files can make delivery take several seconds.
const SYNC_TIMEOUT_MS = 20_000

/** A message to seed: its author and text, and the seeded message it replies to. */
interface Seed {
  author: 'ana' | 'ben'
  text: string
  replyTo?: number
}

// Messages take three lines each, so that the newest two segments fill a phone's screen.
function text(number: number): string {
  return `Message ${number}\nabout the plan\nsee you soon`
}

// 27 messages make segments 0 to 3 full and leave 3 in the open segment 4. Ana wrote
// message 8, in segment 1, and message 26 replies to message 2, in segment 0.
const HISTORY: Seed[] = Array.from({ length: 27 }, (_, index) => {
  const number = index + 1
  const seed: Seed = { author: number === 8 ? 'ana' : 'ben', text: text(number) }
  if (number === 26) seed.replyTo = 2
  return seed
})

describe('history segments in the browser', { timeout: 120_000 }, () => {
  let server: TestServer
  let browser: Browser
  let anaContext: BrowserContext
  let benContext: BrowserContext
  let ana: Page
  let ben: Page
  let anaUser: User
  let benUser: User
  const tokens = { ana: '', ben: '' }
  const anaName = uniqueName('ana')
  const benName = uniqueName('ben')

  beforeAll(async () => {
    server = await startTestServer({
      config: { appDir: APP_DIR, segmentMessages: SEGMENT_MESSAGES },
    })
    browser = await launchBrowser()
    anaContext = await browser.newContext({ viewport: PHONE })
    benContext = await browser.newContext({ viewport: PHONE })
    ana = await anaContext.newPage()
    ben = await benContext.newPage()
    await signUpInApp(ben, server.url, benName, 'Ben Okafor')
    await signUpInApp(ana, server.url, anaName, 'Ana Lima')
    anaUser = await currentUser(ana)
    benUser = await currentUser(ben)
    tokens.ana = await bearerToken(server.url, anaName)
    tokens.ben = await bearerToken(server.url, benName)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await server?.database.drop()
  })

  /** Runs work while Ana's browser is offline, once her page shows it, then reconnects. */
  async function whileAnaOffline(work: () => Promise<void>): Promise<void> {
    await anaContext.setOffline(true)
    try {
      await expect
        .poll(() => ana.getByTestId('connection-state').getAttribute('data-state'), {
          timeout: 15_000,
        })
        .not.toBe('online')
      await work()
    } finally {
      await anaContext.setOffline(false)
    }
  }

  /** Creates a group of Ana and Ben with Ana as admin and writes the seeds into it. */
  async function seededGroup(title: string, seeds = HISTORY) {
    const response = await requestFromPage<{ conversation: { id: ConversationId } }>(
      ana,
      'POST',
      '/api/conversations',
      { kind: 'group', title, memberIds: [benUser.id] },
    )
    if (response.status !== 201) throw new Error(`creating "${title}" failed`)
    const conversationId = response.body.conversation.id
    const written = await writeSeeds(conversationId, seeds)
    return { conversationId, written }
  }

  /** Writes seeds through the sync protocol, into the open segment, as their authors. */
  async function writeSeeds(conversationId: ConversationId, seeds: Seed[]) {
    const written: ChatMessage[] = []
    for (const seed of seeds) {
      const author = seed.author === 'ana' ? anaUser : benUser
      const replyTo = seed.replyTo === undefined ? undefined : written[seed.replyTo - 1]?.id
      const message = await writeIntoOpenSegment(
        server.url,
        tokens[seed.author],
        conversationId,
        (doc) => sendMessage(doc, { authorId: author.id, text: seed.text, replyTo }),
      )
      written.push(message)
    }
    return written
  }

  it('opens with only the newest segments', async () => {
    const { conversationId } = await seededGroup('Newest first')
    await openConversation(ana, server.url, conversationId)

    const list = ana.getByTestId('messages')
    await expect.poll(() => firstLines(ana), { timeout: SYNC_TIMEOUT_MS }).toEqual(numbers(19, 27))
    expect(await list.getAttribute('data-first-segment')).toBe('3')
    expect(await list.getAttribute('data-open-segment')).toBe('4')
    expect(await ana.getByTestId('conversation-start').count()).toBe(0)

    const prefix = `parley:${anaUser.id}:${conversationDocumentName(conversationId)}`
    expect(await localDatabases(ana, prefix)).toEqual([
      prefix,
      `${prefix}:seg:3`,
      `${prefix}:seg:4`,
    ])
    // The quoted original sits in segment 0, which the server reads for the quote.
    const quote = messageWith(ana, 'Message 26').getByTestId('reply-quote')
    await expect.poll(() => quote.innerText(), { timeout: SYNC_TIMEOUT_MS }).toMatch(/Message 2\b/)
    expect(await list.getAttribute('data-first-segment')).toBe('3')
  })

  it('loads older segments in place', async () => {
    const { conversationId } = await seededGroup('Scrolling back')
    await openConversation(ana, server.url, conversationId)
    const list = ana.getByTestId('messages')
    await expect
      .poll(() => list.getAttribute('data-first-segment'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('3')

    for (const segment of [2, 1, 0]) {
      const anchor = await scrollToTop(list)
      await expect
        .poll(() => list.getAttribute('data-first-segment'), { timeout: SYNC_TIMEOUT_MS })
        .toBe(String(segment))
      await expect.poll(() => ana.getByTestId('history-loading').count()).toBe(0)
      expect(Math.abs((await rowTop(list, anchor.messageId)) - anchor.top)).toBeLessThan(2)
    }

    await ana.getByTestId('conversation-start').waitFor()
    expect(await firstLines(ana)).toEqual(numbers(1, 27))
  })

  it('sends into the next segment after a rotation', async () => {
    const { conversationId } = await seededGroup('Rotation')
    await openConversation(ana, server.url, conversationId)
    await openConversation(ben, server.url, conversationId)
    const list = ana.getByTestId('messages')
    await expect
      .poll(() => list.getAttribute('data-open-segment'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('4')

    // Segment 4 contains three messages, so the third of these fills it.
    for (const number of [28, 29, 30]) {
      await sendInApp(ana, `Message ${number}`)
      await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')
    }
    await expect
      .poll(() => list.getAttribute('data-open-segment'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('5')
    await sendInApp(ana, 'Message 31')
    await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')

    await expect
      .poll(async () => (await firstLines(ben)).slice(-4), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(numbers(28, 31))
    const stored = await segmentTexts(conversationId, 5)
    expect(stored).toEqual(['Message 31'])
    expect(await ana.getByTestId('resync-notice').count()).toBe(0)
  })

  it('writes an offline message into the new segment', async () => {
    const { conversationId } = await seededGroup('Offline rotation')
    await openConversation(ana, server.url, conversationId)
    const list = ana.getByTestId('messages')
    await expect
      .poll(() => list.getAttribute('data-open-segment'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('4')
    const refusalsBefore = await invalidUpdateRefusals(server.url)

    // While Ana is offline, Ben fills segment 4 and the server opens segment 5. Ana's
    // message goes into segment 4, which the server then rejects.
    await whileAnaOffline(async () => {
      await writeSeeds(
        conversationId,
        [28, 29, 30].map((number) => ({ author: 'ben', text: `Message ${number}` })),
      )
      await sendInApp(ana, 'Written offline')
      expect(await lastMessageState(ana)).toBe('pending')
    })

    await ana.getByTestId('resync-notice').waitFor({ timeout: SYNC_TIMEOUT_MS })
    await expect
      .poll(() => list.getAttribute('data-open-segment'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('5')
    await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')
    // Segment 4's dropped copy shows again once it has synced from the server.
    await expect
      .poll(async () => (await firstLines(ana)).slice(-4), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Message 28', 'Message 29', 'Message 30', 'Written offline'])
    expect(await segmentTexts(conversationId, 5)).toEqual(['Written offline'])
    expect(await segmentTexts(conversationId, 4)).not.toContain('Written offline')

    // The dropped copy is never sent again, and the server drops what its provider sent after
    // the close.
    const refusals = await invalidUpdateRefusals(server.url)
    expect(refusals - refusalsBefore).toBe(1)
    await ana.waitForTimeout(2_000)
    expect(await invalidUpdateRefusals(server.url)).toBe(refusals)
    expect(await segmentTexts(conversationId, 5)).toEqual(['Written offline'])
  })

  it('resyncs after a late message of the dropped copy', async () => {
    const { conversationId } = await seededGroup('Late message')
    await replayLateMessage(ana, segmentDocumentName(conversationId, 4))
    await openConversation(ana, server.url, conversationId)
    const list = ana.getByTestId('messages')
    await expect
      .poll(() => list.getAttribute('data-open-segment'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('4')
    const refusalsBefore = await invalidUpdateRefusals(server.url)

    await whileAnaOffline(async () => {
      await writeSeeds(
        conversationId,
        [28, 29, 30].map((number) => ({ author: 'ben', text: `Message ${number}` })),
      )
      await sendInApp(ana, 'Written offline')
    })

    // The server rejects the dropped copy's update, then the same update again on the
    // connection of the copy synced anew. That copy still syncs and shows.
    await ana.getByTestId('resync-notice').waitFor({ timeout: SYNC_TIMEOUT_MS })
    await expect
      .poll(async () => (await firstLines(ana)).slice(-4), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Message 28', 'Message 29', 'Message 30', 'Written offline'])
    await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')
    expect(await invalidUpdateRefusals(server.url)).toBe(refusalsBefore + 2)
    expect(await ana.getByText('Syncing of this conversation has stopped').count()).toBe(0)
    expect(await segmentTexts(conversationId, 5)).toEqual(['Written offline'])
    expect(await segmentTexts(conversationId, 4)).not.toContain('Written offline')
  })

  it('keeps offline edits and reactions in a rejected segment', async () => {
    // Segments 0 to 3 are full, and the open segment 4 contains Ana's message 25 and Ben's 26.
    const seeds: Seed[] = [
      ...HISTORY.slice(0, 24),
      { author: 'ana', text: text(25) },
      { author: 'ben', text: text(26) },
    ]
    const { conversationId, written } = await seededGroup('Offline changes', seeds)
    const [own, bens] = [written[24], written[25]]
    if (!own || !bens) throw new Error('the seeds were not written')
    await openConversation(ana, server.url, conversationId)
    await messageWith(ana, 'Message 26').waitFor({ timeout: SYNC_TIMEOUT_MS })

    // While Ana is offline, Ben fills segment 4. Ana writes a new message, edits her older one
    // and reacts to Ben's, all in segment 4, whose copy the server then rejects.
    await whileAnaOffline(async () => {
      await writeSeeds(
        conversationId,
        [27, 28, 29, 30].map((number) => ({ author: 'ben', text: `Message ${number}` })),
      )
      // The message goes first: the changes after it reach the server only once it was
      // rejected, on the connection that the rejection closes.
      await sendInApp(ana, 'Written offline')
      await editInApp(ana, 'Message 25', 'Message 25, edited offline')
      await reactInApp(ana, 'Message 26')
    })

    const notice = ana.getByTestId('resync-notice')
    await notice.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')
    await expect
      .poll(
        async () => {
          const stored = await storedSegment(conversationId, 4)
          return {
            edited: stored.messages.find((message) => message.id === own.id)?.text,
            reacted: [...(stored.reactions.get(bens.id)?.values() ?? [])].flat(),
          }
        },
        { timeout: SYNC_TIMEOUT_MS },
      )
      .toEqual({ edited: 'Message 25, edited offline', reacted: [anaUser.id] })
    expect(await segmentTexts(conversationId, 5)).toEqual(['Written offline'])
    expect(await notice.innerText()).toContain('Your 2 unsent edits and reactions were made again.')
  })

  it('delivers changes in a closed segment', async () => {
    const { conversationId } = await seededGroup('Old changes')
    await openConversation(ana, server.url, conversationId)
    await openConversation(ben, server.url, conversationId)
    await scrollBackTo(ana, 'Message 8')
    await scrollBackTo(ben, 'Message 8')

    await editInApp(ana, 'Message 8', 'Message 8, edited long after')
    await reactInApp(ana, 'Message 7')

    await expect
      .poll(() => messageWith(ben, 'Message 8, edited').count(), { timeout: SYNC_TIMEOUT_MS })
      .toBe(1)
    await expect
      .poll(() => messageWith(ben, 'Message 7').getByTestId('reaction-chip').count(), {
        timeout: SYNC_TIMEOUT_MS,
      })
      .toBe(1)

    const removed = messageWith(ana, 'Message 9')
    await removed.hover()
    await removed.getByTestId('message-remove').click()
    await ana.getByTestId('confirm-remove-message').click()
    await expect
      .poll(() => ben.getByTestId('message-deleted').allInnerTexts(), {
        timeout: SYNC_TIMEOUT_MS,
      })
      .toEqual(['Removed by Ana Lima'])
  })

  it('marks unread after a marker in an older segment', async () => {
    const { conversationId, written } = await seededGroup('Older marker', HISTORY.slice(0, 3))
    // Ana has read up to message 3, in the live document, before Ben writes the rest.
    const reader = openDocument(server.url, tokens.ana, conversationDocumentName(conversationId))
    await waitForSync(reader)
    const lastRead = written[2]
    if (!lastRead) throw new Error('message 3 was not written')
    setReadMarker(reader.doc, { userId: anaUser.id, messageId: lastRead.id })
    await waitForAcknowledged(reader)
    reader.destroy()
    await writeSeeds(conversationId, HISTORY.slice(3))

    // The first page shows segments 3 and 4, messages 19 to 27, so message 3 is not loaded.
    await openConversation(ana, server.url, conversationId)
    const divider = ana.getByTestId('new-messages-divider')
    await divider.waitFor({ timeout: SYNC_TIMEOUT_MS })
    const afterDivider = await divider.evaluate(
      (node) => node.nextElementSibling?.querySelector('[data-testid="message-text"]')?.textContent,
    )
    expect(afterDivider?.split('\n')[0]).toBe('Message 19')
  })

  it('finds the original of a reply in older segments', async () => {
    const { conversationId } = await seededGroup('Earlier reply')
    await openConversation(ana, server.url, conversationId)
    const quote = messageWith(ana, 'Message 26').getByTestId('reply-quote')
    await expect.poll(() => quote.innerText(), { timeout: SYNC_TIMEOUT_MS }).toMatch(/Message 2\b/)

    await quote.click()
    const original = messageWith(ana, 'Message 2')
    await original.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await expect.poll(() => isInViewport(original)).toBe(true)
    expect(await ana.getByTestId('messages').getAttribute('data-first-segment')).toBe('0')
    await expect.poll(() => quote.innerText()).toContain('Message 2')
  })

  it('closes segments scrolled out of use', async () => {
    // 45 messages fill segments 0 to 6, enough that several are far above the newest.
    const seeds = Array.from({ length: 45 }, (_, index): Seed => ({
      author: 'ben',
      text: text(index + 1),
    }))
    const { conversationId } = await seededGroup('Releasing', seeds)
    await openConversation(ana, server.url, conversationId)
    const list = ana.getByTestId('messages')
    await scrollBackTo(ana, 'Message 1')
    expect(await list.getAttribute('data-first-segment')).toBe('0')

    // Scrolling down in steps, as a reader does, releases the segments far above.
    await expect
      .poll(
        async () => {
          await list.evaluate((element) => element.scrollBy(0, element.clientHeight))
          return Number(await list.getAttribute('data-first-segment'))
        },
        { timeout: SYNC_TIMEOUT_MS },
      )
      .toBeGreaterThanOrEqual(2)
    expect(await firstLines(ana)).not.toContain('Message 1')

    // A released segment stays on the device as bytes.
    const prefix = `parley:${anaUser.id}:${conversationDocumentName(conversationId)}`
    expect(await localDatabases(ana, prefix)).toContain(`${prefix}:seg:1`)
  })

  it('reports full storage without losing messages', async () => {
    const { conversationId } = await seededGroup('Full storage', [])
    await openConversation(ana, server.url, conversationId)
    await openConversation(ben, server.url, conversationId)
    await sendInApp(ana, 'Stored before')
    await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')

    // Chromium 156 ignores a quota set through CDP (Storage.overrideQuotaForOrigin) for
    // IndexedDB, so the page fails its writes the way IndexedDB reports a full quota: the
    // transaction aborts with a QuotaExceededError.
    await ana.evaluate(() => {
      type Add = (this: IDBObjectStore, ...args: unknown[]) => IDBRequest
      const add = Reflect.get(IDBObjectStore.prototype, 'add') as Add
      Object.assign(window, { originalAdd: add })
      const failingAdd: Add = function (...args) {
        const request = add.apply(this, args)
        const error = new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        Object.defineProperty(this.transaction, 'error', { value: error })
        this.transaction.abort()
        return request
      }
      Reflect.set(IDBObjectStore.prototype, 'add', failingAdd)
    })
    try {
      await sendInApp(ana, 'Sent with a full disk')
      await ana.getByTestId('storage-full').waitFor({ timeout: SYNC_TIMEOUT_MS })
      await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')
      await expect
        .poll(() => firstLines(ben), { timeout: SYNC_TIMEOUT_MS })
        .toEqual(['Stored before', 'Sent with a full disk'])
    } finally {
      await ana.evaluate(() => {
        Reflect.set(IDBObjectStore.prototype, 'add', Reflect.get(window, 'originalAdd'))
      })
    }
  })

  it('removes every local database on logout', async () => {
    const { conversationId } = await seededGroup('Logout')
    await openConversation(ana, server.url, conversationId)
    await scrollBackTo(ana, 'Message 10')
    const prefix = `parley:${anaUser.id}:`
    expect(await localDatabases(ana, `${prefix}conv:${conversationId}:seg:`)).not.toEqual([])

    await ana.getByTestId('profile-menu').click()
    await ana.getByTestId('logout').click()
    await ana.getByTestId('login-username').waitFor()
    await expect.poll(() => localDatabases(ana, prefix), { timeout: SYNC_TIMEOUT_MS }).toEqual([])
  })

  /** Reads the messages and reactions of one segment as stored on the server. */
  async function storedSegment(conversationId: ConversationId, segment: number) {
    const client = openDocument(
      server.url,
      tokens.ben,
      segmentDocumentName(conversationId, segment),
    )
    try {
      await waitForSync(client)
      return { messages: listMessages(client.doc), reactions: listReactions(client.doc) }
    } finally {
      client.destroy()
    }
  }

  /** Reads the texts of one segment as stored on the server. */
  async function segmentTexts(conversationId: ConversationId, segment: number) {
    const { messages } = await storedSegment(conversationId, segment)
    return messages.map((message) => message.text)
  }
})

/**
 * Writes one message into a conversation's open segment through the sync protocol and waits
 * until the server has stored it. A message that fills the segment also waits for the server
 * to open the next one, so that the next write goes there.
 */
async function writeIntoOpenSegment(
  baseUrl: string,
  token: string,
  conversationId: ConversationId,
  write: (doc: SyncClient['doc']) => ChatMessage,
): Promise<ChatMessage> {
  const live = openDocument(baseUrl, token, conversationDocumentName(conversationId))
  let segment: SyncClient | undefined
  try {
    await waitForSync(live)
    const open = openSegment(live.doc)
    segment =
      open === 0 ? live : openDocument(baseUrl, token, segmentDocumentName(conversationId, open))
    await waitForSync(segment)
    const message = write(segment.doc)
    await waitForAcknowledged(segment)
    if (messagesOf(segment.doc).length >= SEGMENT_MESSAGES) {
      await waitFor(() => openSegment(live.doc) > open, 'the server to open the next segment')
    }
    return message
  } finally {
    if (segment !== live) segment?.destroy()
    live.destroy()
  }
}

async function bearerToken(baseUrl: string, username: string): Promise<string> {
  const response = await requestJson<{ token: string }>(baseUrl, 'POST', '/api/auth/token', {
    body: { username, password: API_USER_PASSWORD },
  })
  if (response.status !== 201) throw new Error(`token for ${username} failed`)
  return response.body.token
}

async function currentUser(page: Page): Promise<User> {
  const { body } = await requestFromPage<{ user: User }>(page, 'GET', '/api/me')
  return body.user
}

/** Returns the first line of every message shown, in order. */
async function firstLines(page: Page): Promise<string[]> {
  const texts = await page.getByTestId('message-text').allInnerTexts()
  return texts.map((value) => value.split('\n')[0] ?? '')
}

function numbers(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, index) => `Message ${from + index}`)
}

/** Returns the message whose text starts with `textStart` followed by no digit. */
function messageWith(page: Page, textStart: string): Locator {
  const escaped = textStart.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const start = new RegExp(`^${escaped}(?!\\d)`)
  return page
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').filter({ hasText: start }) })
}

/** Replaces the text of an own message through its edit button. */
async function editInApp(page: Page, textStart: string, text: string): Promise<void> {
  const row = messageWith(page, textStart)
  await row.hover()
  await row.getByTestId('message-edit').click()
  await page.getByTestId('message-edit-input').fill(text)
  await page.getByTestId('message-edit-input').press('Enter')
}

/** Reacts to a message with the first emoji offered. */
async function reactInApp(page: Page, textStart: string): Promise<void> {
  const row = messageWith(page, textStart)
  await row.hover()
  await row.getByTestId('reaction-add').click()
  await page.getByTestId('emoji-option').first().click()
}

function lastMessageState(page: Page): Promise<string | null> {
  return page.getByTestId('message').last().getAttribute('data-state')
}

/**
 * Scrolls the list to its top and returns the message then at the top of the viewport, with
 * its position, measured before the list can react to the scroll.
 */
function scrollToTop(list: Locator): Promise<{ messageId: MessageId; top: number }> {
  return list.evaluate((element) => {
    element.scrollTop = 0
    const listTop = element.getBoundingClientRect().top
    const rows = [...element.querySelectorAll<HTMLElement>('[data-testid="message"]')]
    const row = rows.find((candidate) => candidate.getBoundingClientRect().bottom > listTop)
    if (!row?.dataset.messageId) throw new Error('no message in view')
    return {
      messageId: row.dataset.messageId as MessageId,
      top: row.getBoundingClientRect().top - listTop,
    }
  })
}

function rowTop(list: Locator, messageId: MessageId): Promise<number> {
  return list.evaluate((element, id) => {
    const row = element.querySelector(`[data-message-id="${CSS.escape(id)}"]`)
    if (!row) throw new Error(`message ${id} is not shown`)
    return row.getBoundingClientRect().top - element.getBoundingClientRect().top
  }, messageId)
}

/** Scrolls back, loading older segments, until a message is shown. */
async function scrollBackTo(page: Page, textStart: string): Promise<void> {
  const list = page.getByTestId('messages')
  await expect
    .poll(
      async () => {
        if ((await messageWith(page, textStart).count()) > 0) return true
        await list.evaluate((element) => {
          element.scrollTop = 0
        })
        return false
      },
      { timeout: SYNC_TIMEOUT_MS, interval: 250 },
    )
    .toBe(true)
  await messageWith(page, textStart).scrollIntoViewIfNeeded()
}

function isInViewport(element: Locator): Promise<boolean> {
  return element.evaluate((node) => {
    const list = node.closest('.messages')
    if (!list) return false
    const rect = node.getBoundingClientRect()
    const bounds = list.getBoundingClientRect()
    return rect.top >= bounds.top - 1 && rect.bottom <= bounds.bottom + 1
  })
}

// Hocuspocus message types and the Yjs sync step 1 type, as the provider encodes them.
const SYNC_MESSAGE = 0
const AUTH_MESSAGE = 2
const CLOSE_MESSAGE = 7
const SYNC_STEP_1 = 0

/**
 * Routes the page's next sync sockets through Playwright and, once the server has closed
 * `documentName`, sends the last update that the page sent for it to the server again, right
 * after the page's next Auth message for that document. The server takes it for the new
 * connection's update, as Hocuspocus 4.7 did with a message that the dropped copy's provider
 * sent after the close, before the server dropped such messages (late-messages.ts). Only
 * sockets opened after this call are routed.
 */
async function replayLateMessage(page: Page, documentName: string): Promise<void> {
  let lastUpdate: Buffer | undefined
  let closed = false
  let replayed = false
  await page.routeWebSocket(/\/sync$/, (socket) => {
    const server = socket.connectToServer()
    socket.onMessage((message) => {
      const header = readHeader(message)
      server.send(message)
      if (header?.documentName !== documentName) return
      if (header.type === SYNC_MESSAGE && header.syncType !== SYNC_STEP_1) {
        if (!closed && typeof message !== 'string') lastUpdate = message
      }
      if (header.type === AUTH_MESSAGE && closed && !replayed && lastUpdate) {
        replayed = true
        server.send(lastUpdate)
      }
    })
    server.onMessage((message) => {
      socket.send(message)
      const header = readHeader(message)
      if (header?.documentName === documentName && header.type === CLOSE_MESSAGE) closed = true
    })
  })
}

/** Reads the document name, message type and sync message type that a message starts with. */
function readHeader(message: string | Buffer) {
  if (typeof message === 'string') return undefined
  try {
    const decoder = decoding.createDecoder(message)
    const documentName = decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    const syncType = type === SYNC_MESSAGE ? decoding.readVarUint(decoder) : undefined
    return { documentName, type, syncType }
  } catch {
    return undefined
  }
}

async function invalidUpdateRefusals(baseUrl: string): Promise<number> {
  const metrics = await (await fetch(`${baseUrl}/metrics`)).text()
  const line = metrics
    .split('\n')
    .find((value) => value.startsWith('parley_sync_refusals_total{reason="invalid_update"}'))
  return line ? Number(line.split(' ').at(-1)) : 0
}

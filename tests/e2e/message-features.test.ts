import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { User } from '../../shared/api.ts'
import { sendMessage } from '../../shared/chat-document.ts'
import type { UserId } from '../../shared/ids.ts'
import {
  APP_DIR,
  DESKTOP,
  PHONE,
  launchBrowser,
  messageTexts,
  scrollsSideways,
  sendInApp,
  signUpInApp,
} from '../helpers/browser.ts'
import {
  API_USER_PASSWORD,
  openDocument,
  requestJson,
  uniqueName,
  waitFor,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

// Time in milliseconds for a change to reach the other member's page. Two cores shared with
// other test files can make delivery take several seconds.
const SYNC_TIMEOUT_MS = 20_000

// Ana works on a desktop and is the admin of every group. Ben uses a phone, where message
// actions show on tap.
describe('message features in the browser', { timeout: 90_000 }, () => {
  let server: TestServer
  let browser: Browser
  let anaContext: BrowserContext
  let benContext: BrowserContext
  let ana: Page
  let ben: Page
  let anaUser: User
  let benUser: User
  const anaName = uniqueName('ana')
  const benName = uniqueName('ben')

  beforeAll(async () => {
    server = await startTestServer({ config: { appDir: APP_DIR } })
    browser = await launchBrowser()
    anaContext = await browser.newContext({ viewport: DESKTOP })
    benContext = await browser.newContext({ viewport: PHONE, hasTouch: true })
    ana = await anaContext.newPage()
    ben = await benContext.newPage()
    await signUpInApp(ben, server.url, benName, 'Ben Okafor')
    await signUpInApp(ana, server.url, anaName, 'Ana Lima')
    anaUser = await currentUser(ana)
    benUser = await currentUser(ben)
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await server?.database.drop()
  })

  /** Creates a group of Ana and Ben through the API, as Ana, and opens it on both pages. */
  async function openGroup(title: string): Promise<string> {
    const conversationId = await createGroup(ana, title, [benUser.id])
    await openConversation(ana, server.url, conversationId)
    await openConversation(ben, server.url, conversationId)
    return conversationId
  }

  it('shows an edit to the other member', async () => {
    await openGroup('Edits')
    await sendInApp(ana, 'Lunch at noon?')
    await expect
      .poll(() => messageTexts(ben), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Lunch at noon?'])
    expect(await ben.getByTestId('message-edited').count()).toBe(0)

    const original = messageWith(ana, 'Lunch at noon?')
    await original.hover()
    await original.getByTestId('message-edit').click()
    await ana.getByTestId('message-edit-input').fill('Lunch at one?')
    await ana.getByTestId('message-edit-input').press('Enter')

    await expect
      .poll(() => messageTexts(ben), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Lunch at one?'])
    await expect.poll(() => ben.getByTestId('message-edited').count()).toBe(1)
    expect(await messageTexts(ana)).toEqual(['Lunch at one?'])
  })

  it('cancels an edit with Escape', async () => {
    await openGroup('Edit cancel')
    await sendInApp(ana, 'Keep this text')
    const message = messageWith(ana, 'Keep this text')
    await message.hover()
    await message.getByTestId('message-edit').click()
    await ana.getByTestId('message-edit-input').fill('Changed my mind')
    await ana.getByTestId('message-edit-input').press('Escape')

    expect(await ana.getByTestId('message-edit-input').count()).toBe(0)
    expect(await messageTexts(ana)).toEqual(['Keep this text'])
    await expect
      .poll(() => messageTexts(ben), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Keep this text'])
    expect(await ben.getByTestId('message-edited').count()).toBe(0)
  })

  it('replaces a deleted message with a placeholder', async () => {
    await openGroup('Deletes')
    await sendInApp(ana, 'Secret plan')
    await sendInApp(ana, 'Stays')
    await expect
      .poll(() => messageTexts(ben), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Secret plan', 'Stays'])

    const message = messageWith(ana, 'Secret plan')
    await message.hover()
    await message.getByTestId('message-delete').click()
    await ana.getByTestId('confirm-delete-message').click()

    await expect.poll(() => messageTexts(ben), { timeout: SYNC_TIMEOUT_MS }).toEqual(['Stays'])
    expect(await ben.getByTestId('message-deleted').allInnerTexts()).toEqual(['Message deleted'])
    expect(await ana.getByTestId('message-deleted').allInnerTexts()).toEqual(['Message deleted'])
  })

  it('offers edit and delete on own messages only', async () => {
    await openGroup('Own actions')
    await sendInApp(ana, 'Ana wrote this')
    const message = messageWith(ben, 'Ana wrote this')
    await message.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await tap(message)

    const toolbar = message.getByRole('toolbar')
    await expect.poll(() => toolbar.evaluate((node) => getComputedStyle(node).opacity)).toBe('1')
    expect(await message.getByTestId('message-reply').count()).toBe(1)
    expect(await message.getByTestId('message-edit').count()).toBe(0)
    expect(await message.getByTestId('message-delete').count()).toBe(0)
    expect(await message.getByTestId('message-remove').count()).toBe(0)
  })

  it('counts reactions from both members', async () => {
    await openGroup('Reactions')
    await sendInApp(ana, 'Pizza tonight?')
    const onBen = messageWith(ben, 'Pizza tonight?')
    await onBen.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await tap(onBen)
    await onBen.getByTestId('reaction-add').click()
    expect(await ben.getByTestId('emoji-option').count()).toBeGreaterThanOrEqual(20)
    await ben.getByTestId('emoji-option').filter({ hasText: '👍' }).click()

    const chipOnAna = messageWith(ana, 'Pizza tonight?').getByTestId('reaction-chip')
    await expect
      .poll(() => chipOnAna.getAttribute('data-count'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('1')
    expect(await chipOnAna.getAttribute('data-emoji')).toBe('👍')
    expect(await chipOnAna.getAttribute('aria-pressed')).toBe('false')
    expect(await chipOnAna.getAttribute('title')).toContain('Ben Okafor')

    await chipOnAna.click()
    const chipOnBen = onBen.getByTestId('reaction-chip')
    await expect
      .poll(() => chipOnBen.getAttribute('data-count'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('2')
    expect(await chipOnBen.getAttribute('aria-pressed')).toBe('true')
    expect(await chipOnBen.getAttribute('title')).toContain('Ana Lima')

    await chipOnBen.click()
    await expect
      .poll(() => chipOnAna.getAttribute('data-count'), { timeout: SYNC_TIMEOUT_MS })
      .toBe('1')
    expect(await chipOnAna.getAttribute('aria-pressed')).toBe('true')
    expect(await chipOnAna.getAttribute('title')).not.toContain('Ben Okafor')
  })

  it('quotes the current text of the replied message', async () => {
    await openGroup('Replies')
    await sendInApp(ana, 'Which train?')
    const original = messageWith(ben, 'Which train?')
    await original.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await tap(original)
    await original.getByTestId('message-reply').click()
    expect(await ben.getByTestId('reply-preview').innerText()).toContain('Which train?')
    await sendInApp(ben, 'The 9:15')
    await expect.poll(() => ben.getByTestId('reply-preview').count()).toBe(0)

    const quoteOnAna = messageWith(ana, 'The 9:15').getByTestId('reply-quote')
    await expect
      .poll(() => quoteOnAna.innerText(), { timeout: SYNC_TIMEOUT_MS })
      .toContain('Which train?')
    expect(await quoteOnAna.innerText()).toContain('Ana Lima')

    const onAna = messageWith(ana, 'Which train?')
    const originalId = await messageId(onAna)
    await onAna.hover()
    await onAna.getByTestId('message-edit').click()
    await ana.getByTestId('message-edit-input').fill('Which bus?')
    await ana.getByTestId('message-edit-input').press('Enter')
    const quoteOnBen = messageWith(ben, 'The 9:15').getByTestId('reply-quote')
    await expect
      .poll(() => quoteOnBen.innerText(), { timeout: SYNC_TIMEOUT_MS })
      .toContain('Which bus?')

    await quoteOnBen.click()
    const originalOnBen = ben.locator(`[data-message-id="${originalId}"]`)
    await expect.poll(() => originalOnBen.getAttribute('class')).toContain('message--highlighted')

    const edited = messageWith(ana, 'Which bus?')
    await edited.hover()
    await edited.getByTestId('message-delete').click()
    await ana.getByTestId('confirm-delete-message').click()
    await expect
      .poll(() => quoteOnBen.innerText(), { timeout: SYNC_TIMEOUT_MS })
      .toContain('Message deleted')
  })

  it('cancels a reply before sending', async () => {
    await openGroup('Reply cancel')
    await sendInApp(ana, 'Anyone there?')
    const message = messageWith(ana, 'Anyone there?')
    await message.hover()
    await message.getByTestId('message-reply').click()
    await ana.getByTestId('reply-preview').getByRole('button', { name: 'Cancel reply' }).click()
    await sendInApp(ana, 'Not a reply')

    expect(await ana.getByTestId('reply-preview').count()).toBe(0)
    await expect
      .poll(() => messageTexts(ben), { timeout: SYNC_TIMEOUT_MS })
      .toContain('Not a reply')
    expect(await messageWith(ben, 'Not a reply').getByTestId('reply-quote').count()).toBe(0)
  })

  it('highlights a mention for the mentioned member', async () => {
    await openGroup('Mentions')
    const composer = ana.getByTestId('composer')
    await composer.fill('Thanks ')
    await composer.press('End')
    await composer.pressSequentially(`@${benName.slice(0, 4)}`)
    const option = ana.getByTestId('mention-option').filter({ hasText: benName })
    await option.click()
    expect(await composer.inputValue()).toBe(`Thanks @${benName} `)
    await composer.pressSequentially('for the help')
    await composer.press('Enter')

    const onBen = messageWith(ben, 'for the help')
    await onBen.waitFor({ timeout: SYNC_TIMEOUT_MS })
    const mention = onBen.getByTestId('mention')
    expect(await mention.innerText()).toBe(`@${benName}`)
    expect(await mention.getAttribute('class')).toContain('mention--me')
    // The class comes from the message's mentions, which hold Ben's id.
    expect(await onBen.getAttribute('class')).toContain('message--mentions-me')

    const onAna = messageWith(ana, 'for the help').getByTestId('mention')
    expect(await onAna.getAttribute('class')).not.toContain('mention--me')
  })

  it('picks a mention with the keyboard', async () => {
    await openGroup('Mention keys')
    const composer = ana.getByTestId('composer')
    await composer.fill('')
    await composer.pressSequentially(`hi @${benName.slice(0, 5)}`)
    await ana.getByTestId('mention-option').first().waitFor()
    await composer.press('Enter')
    expect(await composer.inputValue()).toBe(`hi @${benName} `)
    expect(await ana.getByTestId('mention-option').count()).toBe(0)
    await composer.pressSequentially('see you')
    await composer.press('Enter')

    await expect
      .poll(() => messageTexts(ben), { timeout: SYNC_TIMEOUT_MS })
      .toEqual([`hi @${benName} see you`])
  })

  it('shows read receipts and the first unread message', async () => {
    const conversationId = await createGroup(ana, 'Receipts', [benUser.id])
    await openConversation(ana, server.url, conversationId)
    await sendInApp(ana, 'Read me first')
    await openConversation(ben, server.url, conversationId)
    await messageWith(ben, 'Read me first').waitFor({ timeout: SYNC_TIMEOUT_MS })

    const readBy = messageWith(ana, 'Read me first').getByTestId('read-by')
    await expect
      .poll(() => readBy.innerText(), { timeout: SYNC_TIMEOUT_MS })
      .toContain('Ben Okafor')
    await expect.poll(() => ben.getByTestId('new-messages-divider').count()).toBe(1)

    // Ben leaves the conversation, and Ana writes more than a phone screen holds.
    await ben.getByTestId('back').click()
    const unread = Array.from({ length: 20 }, (_, index) => `Unread ${index + 1}`)
    for (const text of unread) await sendInApp(ana, text)
    await expect.poll(() => lastMessageState(ana), { timeout: SYNC_TIMEOUT_MS }).toBe('sent')
    expect(await messageWith(ana, 'Unread 20').getByTestId('read-by').count()).toBe(0)

    await openConversation(ben, server.url, conversationId)
    const divider = ben.getByTestId('new-messages-divider')
    await divider.waitFor({ timeout: SYNC_TIMEOUT_MS })
    const afterDivider = await divider.evaluate(
      (node) => node.nextElementSibling?.querySelector('[data-testid="message-text"]')?.textContent,
    )
    expect(afterDivider).toBe('Unread 1')

    await ben.getByTestId('jump-unread').click()
    await expect.poll(() => isInViewport(divider)).toBe(true)

    await ben.getByTestId('message').last().scrollIntoViewIfNeeded()
    await expect
      .poll(() => messageWith(ana, 'Unread 20').getByTestId('read-by').count(), {
        timeout: SYNC_TIMEOUT_MS,
      })
      .toBe(1)
    expect(await messageWith(ana, 'Read me first').getByTestId('read-by').count()).toBe(0)
    expect(await scrollsSideways(ben)).toBe(false)
  })

  it('shows member changes in the timeline', async () => {
    const conversationId = await openGroup('Before rename')
    await sendInApp(ana, 'Renaming now')
    await messageWith(ben, 'Renaming now').waitFor({ timeout: SYNC_TIMEOUT_MS })
    const renamed = await requestFromPage(ana, 'PATCH', `/api/conversations/${conversationId}`, {
      title: 'After rename',
    })
    expect(renamed.status).toBe(200)

    const events = ben.getByTestId('system-event')
    await expect
      .poll(() => events.allInnerTexts(), { timeout: 15_000 })
      .toContain('Ana Lima renamed the group to “After rename”')
    const order = await ben
      .locator('[data-testid="message"], [data-testid="system-event"]')
      .allInnerTexts()
    const renameIndex = order.findIndex((text) => text.includes('renamed the group'))
    const messageIndex = order.findIndex((text) => text.includes('Renaming now'))
    expect(renameIndex).toBeGreaterThan(messageIndex)
  })

  it('lets a group admin remove a message', async () => {
    await openGroup('Moderation')
    await sendInApp(ben, 'Buy cheap watches')
    const onAna = messageWith(ana, 'Buy cheap watches')
    await onAna.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await onAna.hover()
    await onAna.getByTestId('message-remove').click()
    await ana.getByTestId('confirm-remove-message').click()

    await expect
      .poll(() => ben.getByTestId('message-deleted').allInnerTexts(), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Removed by Ana Lima'])
    expect(await messageTexts(ben)).toEqual([])
    await expect
      .poll(() => ana.getByTestId('message-deleted').allInnerTexts(), { timeout: SYNC_TIMEOUT_MS })
      .toEqual(['Removed by Ana Lima'])
  })

  it('disables removal while offline', async () => {
    await openGroup('Offline moderation')
    await sendInApp(ben, 'Remove me later')
    const onAna = messageWith(ana, 'Remove me later')
    await onAna.waitFor({ timeout: SYNC_TIMEOUT_MS })
    await anaContext.setOffline(true)
    try {
      await onAna.hover()
      const remove = onAna.getByTestId('message-remove')
      await expect.poll(() => remove.isDisabled(), { timeout: 15_000 }).toBe(true)
      expect(await remove.getAttribute('title')).toContain('connection')
    } finally {
      await anaContext.setOffline(false)
    }
  })

  it('renders author names from the member list', async () => {
    await openGroup('Renames')
    await sendInApp(ben, 'Written before my rename')
    await messageWith(ana, 'Written before my rename').waitFor({ timeout: SYNC_TIMEOUT_MS })
    const renamed = await requestFromPage(ben, 'PATCH', '/api/me', { displayName: 'Benjamin O' })
    expect(renamed.status).toBe(200)

    // The list refreshes within its polling interval of 10 s.
    await ana.reload()
    const author = messageWith(ana, 'Written before my rename').getByTestId('message-author')
    await expect.poll(() => author.innerText(), { timeout: 20_000 }).toBe('Benjamin O')
    await requestFromPage(ben, 'PATCH', '/api/me', { displayName: 'Ben Okafor' })
  })

  it('sends unsent messages again after a rejected update', async () => {
    const conversationId = await createGroup(ana, 'Rejected update', [benUser.id])
    expect(await serverRejectsForgedAuthor(server.url, anaName, conversationId, benUser.id)).toBe(
      true,
    )
    const refusalsBefore = await invalidUpdateRefusals(server.url)

    // Ana writes a message on a page whose socket goes nowhere, so it stays unsent. Then an
    // update that writes a message in Ben's name lands in her local copy.
    const offline = await anaContext.newPage()
    await offline.routeWebSocket(/\/sync$/, () => {})
    await openConversation(offline, server.url, conversationId)
    await sendInApp(offline, 'Written before the rejection')
    await expect.poll(() => lastMessageState(offline)).toBe('pending')
    // y-indexeddb stores each update in its own IndexedDB transaction, which must commit first.
    await offline.waitForTimeout(500)
    const forged = new Y.Doc()
    sendMessage(forged, { authorId: benUser.id, text: 'Forged in Ben’s name' })
    await addLocalUpdate(offline, `parley:${anaUser.id}:conv:${conversationId}`, forged)
    await offline.close()

    const page = await anaContext.newPage()
    await openConversation(page, server.url, conversationId)
    await page.getByTestId('resync-notice').waitFor({ timeout: 20_000 })
    await expect
      .poll(() => messageTexts(page), { timeout: 15_000 })
      .toEqual(['Written before the rejection'])
    await expect.poll(() => lastMessageState(page), { timeout: 15_000 }).toBe('sent')

    await openConversation(ben, server.url, conversationId)
    await expect
      .poll(() => messageTexts(ben), { timeout: 15_000 })
      .toEqual(['Written before the rejection'])
    // One rejection only: the dropped copy is never sent again.
    await page.waitForTimeout(2_000)
    expect(await invalidUpdateRefusals(server.url)).toBe(refusalsBefore + 1)
    expect(await messageTexts(ben)).toEqual(['Written before the rejection'])
    await page.close()
  })
})

async function currentUser(page: Page): Promise<User> {
  const { body } = await requestFromPage<{ user: User }>(page, 'GET', '/api/me')
  return body.user
}

/** Sends an API request from the page, with its session cookie and origin. */
async function requestFromPage<T = unknown>(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return page.evaluate(
    async (request) => {
      const response = await fetch(request.path, {
        method: request.method,
        headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      })
      const text = await response.text()
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
    },
    { method, path, body },
  )
}

async function createGroup(page: Page, title: string, memberIds: UserId[]): Promise<string> {
  const response = await requestFromPage<{ conversation: { id: string } }>(
    page,
    'POST',
    '/api/conversations',
    { kind: 'group', title, memberIds },
  )
  if (response.status !== 201) throw new Error(`creating "${title}" failed: ${response.status}`)
  return response.body.conversation.id
}

async function openConversation(page: Page, baseUrl: string, id: string): Promise<void> {
  await page.goto(`${baseUrl}/c/${id}`)
  await page.getByTestId('composer').waitFor()
}

function messageWith(page: Page, text: string): Locator {
  return page
    .getByTestId('message')
    .filter({ has: page.getByTestId('message-text').filter({ hasText: text }) })
}

async function messageId(message: Locator): Promise<string> {
  const id = await message.getAttribute('data-message-id')
  if (!id) throw new Error('message without data-message-id')
  return id
}

/** Taps a message outside its controls, which shows its actions on a touch screen. */
async function tap(message: Locator): Promise<void> {
  await message.getByTestId('message-author').tap()
}

function lastMessageState(page: Page): Promise<string | null> {
  return page.getByTestId('message').last().getAttribute('data-state')
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

/** Stores a Yjs update in a document's IndexedDB database, as y-indexeddb does. */
async function addLocalUpdate(page: Page, databaseName: string, doc: Y.Doc): Promise<void> {
  const update = [...Y.encodeStateAsUpdate(doc)]
  await page.evaluate(
    ({ name, bytes }) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open(name)
        open.onerror = () => reject(new Error(`opening ${name} failed`))
        open.onsuccess = () => {
          const database = open.result
          const transaction = database.transaction('updates', 'readwrite')
          transaction.objectStore('updates').add(new Uint8Array(bytes))
          transaction.oncomplete = () => {
            database.close()
            resolve()
          }
          transaction.onerror = () => reject(new Error(`writing to ${name} failed`))
        }
      }),
    { name: databaseName, bytes: update },
  )
}

/** Checks whether the server closes a document that receives a message in another's name. */
async function serverRejectsForgedAuthor(
  baseUrl: string,
  username: string,
  conversationId: string,
  otherUserId: UserId,
): Promise<boolean> {
  const token = await requestJson<{ token: string }>(baseUrl, 'POST', '/api/auth/token', {
    body: { username, password: API_USER_PASSWORD },
  })
  const client = openDocument(baseUrl, token.body.token, `conv:${conversationId}`)
  try {
    await waitForSync(client)
    sendMessage(client.doc, { authorId: otherUserId, text: 'probe in another name' })
    await waitFor(() => client.closes.length > 0, 'the server to close the document', 5_000)
    return client.closes.includes('invalid_update')
  } catch {
    return false
  } finally {
    client.destroy()
  }
}

async function invalidUpdateRefusals(baseUrl: string): Promise<number> {
  const metrics = await (await fetch(`${baseUrl}/metrics`)).text()
  const line = metrics
    .split('\n')
    .find((text) => text.startsWith('parley_sync_refusals_total{reason="invalid_update"}'))
  return line ? Number(line.split(' ').at(-1)) : 0
}

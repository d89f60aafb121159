import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Conversation } from '../../shared/api.ts'
import { sendMessage } from '../../shared/chat-document.ts'
import { conversationDocumentName } from '../../shared/document-names.ts'
import {
  APP_DIR,
  DESKTOP,
  PHONE,
  launchBrowser,
  messageTexts,
  sendInApp,
} from '../helpers/browser.ts'
import {
  API_USER_PASSWORD,
  type ApiUser,
  createApiUser,
  createGroup,
  openDocument,
  uniqueName,
  waitForAcknowledged,
  waitForSync,
} from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

// Changes reach other users through the server's list notification, a document change or,
// at the latest, the list's 10 s poll.
const REMOTE_TIMEOUT_MS = 20_000

describe('groups, presence and preferences in the browser', { timeout: 90_000 }, () => {
  let server: TestServer
  let browser: Browser

  beforeAll(async () => {
    server = await startTestServer({ config: { appDir: APP_DIR } })
    browser = await launchBrowser()
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await server?.database.drop()
  })

  /** Signs up a user through the API with a display name. */
  async function newUser(prefix: string, displayName: string): Promise<ApiUser> {
    const user = await createApiUser(server.url, prefix)
    const renamed = await user.request<{ user: ApiUser['user'] }>('PATCH', '/api/me', {
      displayName,
    })
    user.user = renamed.body.user
    return user
  }

  /** Opens the app as a user on a new device (browser context) and waits for the list. */
  async function openApp(
    user: ApiUser,
    options: { viewport?: typeof DESKTOP; fakeNotifications?: boolean } = {},
  ): Promise<Page> {
    const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP })
    if (options.fakeNotifications) await context.addInitScript({ content: FAKE_NOTIFICATIONS })
    const page = await context.newPage()
    await page.goto(`${server.url}/login`)
    await page.getByTestId('login-username').fill(user.user.username)
    await page.getByTestId('login-password').fill(API_USER_PASSWORD)
    await page.getByTestId('login-submit').click()
    await page.getByTestId('new-chat').waitFor()
    return page
  }

  function item(page: Page, title: string) {
    return page.getByTestId('conversation-item').filter({ hasText: title })
  }

  function row(page: Page, title: string) {
    return page.getByTestId('conversation-row').filter({ hasText: title })
  }

  function member(page: Page, name: string) {
    return page.getByTestId('member').filter({ hasText: name })
  }

  async function openConversation(page: Page, title: string): Promise<void> {
    await item(page, title).click()
    await page.getByTestId('composer').waitFor()
  }

  async function openGroupInfo(page: Page, title: string): Promise<void> {
    await openConversation(page, title)
    await page.getByTestId('group-info').click()
    await page.getByTestId('group-info-panel').waitFor()
  }

  async function listTitles(page: Page): Promise<string[]> {
    return page
      .getByTestId('conversation-item')
      .evaluateAll((nodes) =>
        nodes.map((node) => node.querySelector('.item__title')?.textContent ?? ''),
      )
  }

  async function listedIds(user: ApiUser): Promise<string[]> {
    const list = await user.request<{ conversations: Conversation[] }>('GET', '/api/conversations')
    return list.body.conversations.map((conversation) => conversation.id)
  }

  it('manages a group as admin, seen by a member', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const carla = await newUser('carla', 'Carla Diaz')
    const title = uniqueName('trip')
    const group = await createGroup(ana, [ben], title)
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben)

    await openGroupInfo(anaPage, title)
    await openGroupInfo(benPage, title)
    expect(await benPage.getByTestId('group-rename').count()).toBe(0)

    const renamed = uniqueName('lisbon')
    await anaPage.getByTestId('group-rename').click()
    await anaPage.getByTestId('group-rename-input').fill(renamed)
    await anaPage.getByTestId('group-rename-save').click()
    await item(anaPage, renamed).waitFor()
    await item(benPage, renamed).waitFor({ timeout: REMOTE_TIMEOUT_MS })

    await anaPage.getByTestId('add-member-search').fill(carla.user.username)
    await anaPage.getByTestId('add-member-result').filter({ hasText: carla.user.username }).click()
    await member(anaPage, 'Carla Diaz').waitFor()
    await member(benPage, 'Carla Diaz').waitFor({ timeout: REMOTE_TIMEOUT_MS })
    expect(await listedIds(carla)).toContain(group.id)

    await member(anaPage, 'Ben Okafor').getByTestId('member-promote').click()
    await benPage.getByTestId('group-rename').waitFor({ timeout: REMOTE_TIMEOUT_MS })
    await expect.poll(() => member(benPage, 'Ben Okafor').getAttribute('data-role')).toBe('admin')

    await member(anaPage, 'Ben Okafor').getByTestId('member-demote').click()
    await benPage
      .getByTestId('group-rename')
      .waitFor({ state: 'detached', timeout: REMOTE_TIMEOUT_MS })
    await expect.poll(() => member(benPage, 'Ben Okafor').getAttribute('data-role')).toBe('member')

    await member(anaPage, 'Carla Diaz').getByTestId('remove-member').click()
    await member(benPage, 'Carla Diaz').waitFor({ state: 'detached', timeout: REMOTE_TIMEOUT_MS })
    expect(await listedIds(carla)).not.toContain(group.id)

    await benPage.getByTestId('leave-group').click()
    await item(benPage, renamed).waitFor({ state: 'detached' })
    await member(anaPage, 'Ben Okafor').waitFor({ state: 'detached', timeout: REMOTE_TIMEOUT_MS })
    expect(await listedIds(ben)).not.toContain(group.id)

    await anaPage.getByTestId('delete-group').click()
    await anaPage.getByTestId('confirm-delete-group').click()
    await item(anaPage, renamed).waitFor({ state: 'detached' })
    expect(await listedIds(ana)).not.toContain(group.id)
  })

  it('removes a deleted group from a member with it open', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('doomed')
    await createGroup(ana, [ben], title)
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben)
    await openConversation(benPage, title)

    await openGroupInfo(anaPage, title)
    await anaPage.getByTestId('delete-group').click()
    await anaPage.getByTestId('confirm-delete-group').click()

    await item(benPage, title).waitFor({ state: 'detached', timeout: REMOTE_TIMEOUT_MS })
    await expect
      .poll(() => benPage.getByTestId('composer').isDisabled(), { timeout: REMOTE_TIMEOUT_MS })
      .toBe(true)
  })

  it('syncs again for a member removed and added back', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('again')
    const group = await createGroup(ana, [ben], title)
    const benPage = await openApp(ben)
    await openConversation(benPage, title)

    const removed = await ana.request(
      'DELETE',
      `/api/conversations/${group.id}/members/${ben.user.id}`,
    )
    await benPage.getByTestId('access-lost').waitFor({ timeout: REMOTE_TIMEOUT_MS })
    const added = await ana.request('POST', `/api/conversations/${group.id}/members`, {
      userId: ben.user.id,
    })
    const writer = openDocument(server.url, ana.token, conversationDocumentName(group.id))
    await waitForSync(writer)
    sendMessage(writer.doc, { authorId: ana.user.id, text: 'welcome back' })
    await waitForAcknowledged(writer)
    writer.destroy()

    expect(removed.status).toBe(204)
    expect(added.status).toBe(201)
    await expect
      .poll(() => messageTexts(benPage), { timeout: REMOTE_TIMEOUT_MS })
      .toContain('welcome back')
    await benPage.getByTestId('access-lost').waitFor({ state: 'detached' })
  })

  it('wipes a group deleted while the app was closed', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('gone')
    const group = await createGroup(ana, [ben], title)
    const localName = `parley:${ben.user.id}:conv:${group.id}`
    const benPage = await openApp(ben)
    await openConversation(benPage, title)
    await sendInApp(benPage, 'kept on this device')
    await expect
      .poll(() => benPage.getByTestId('message').last().getAttribute('data-state'))
      .toBe('sent')
    const context = benPage.context()
    await benPage.close()

    const deleted = await ana.request('DELETE', `/api/conversations/${group.id}`)
    expect(deleted.status).toBe(204)

    const reopened = await context.newPage()
    await reopened.goto(`${server.url}/c/${group.id}`)
    await item(reopened, title).waitFor({ state: 'detached', timeout: REMOTE_TIMEOUT_MS })
    await expect
      .poll(() => reopened.getByTestId('composer').isDisabled(), { timeout: REMOTE_TIMEOUT_MS })
      .toBe(true)
    await expect
      .poll(() => reopened.evaluate(async () => (await indexedDB.databases()).map((db) => db.name)))
      .not.toContain(localName)
    const lookup = await ana.request('GET', `/api/conversations/${group.id}`)
    expect(lookup.status).toBe(404)
  })

  it('disables group changes offline', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('offline')
    await createGroup(ana, [ben], title)
    const anaPage = await openApp(ana)
    await openGroupInfo(anaPage, title)

    await anaPage.context().setOffline(true)
    await anaPage.getByTestId('group-offline').waitFor()
    expect(await anaPage.getByTestId('group-rename').isDisabled()).toBe(true)
    expect(await anaPage.getByTestId('leave-group').isDisabled()).toBe(true)
    expect(await anaPage.getByTestId('delete-group').isDisabled()).toBe(true)
    expect(await member(anaPage, 'Ben Okafor').getByTestId('remove-member').isDisabled()).toBe(true)

    await anaPage.context().setOffline(false)
    await anaPage.getByTestId('group-offline').waitFor({ state: 'detached', timeout: 30_000 })
    expect(await anaPage.getByTestId('group-rename').isDisabled()).toBe(false)
  })

  it('shows typing and online state to the other user', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('typing')
    await createGroup(ana, [ben], title)
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben)
    await openConversation(anaPage, title)
    await openGroupInfo(benPage, title)

    await member(benPage, 'Ana Lima').getByTestId('online-dot').waitFor({ timeout: 10_000 })

    await anaPage.getByTestId('composer').pressSequentially('Hello the', { delay: 30 })
    const indicator = benPage.getByTestId('typing-indicator')
    await indicator.waitFor({ timeout: 10_000 })
    expect(await indicator.innerText()).toContain('Ana Lima is typing')
    expect(await anaPage.getByTestId('typing-indicator').count()).toBe(0)

    await anaPage.getByTestId('composer').press('Enter')
    await indicator.waitFor({ state: 'detached', timeout: 10_000 })

    await anaPage.close()
    await member(benPage, 'Ana Lima')
      .getByTestId('online-dot')
      .waitFor({ state: 'detached', timeout: 40_000 })
  })

  it('clears typing 4 s after the last keystroke', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('idle')
    await createGroup(ana, [ben], title)
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben)
    await openConversation(anaPage, title)
    await openConversation(benPage, title)

    await anaPage.getByTestId('composer').pressSequentially('thinking', { delay: 30 })
    const indicator = benPage.getByTestId('typing-indicator')
    await indicator.waitFor({ timeout: 10_000 })
    const shownAt = Date.now()
    await indicator.waitFor({ state: 'detached', timeout: 10_000 })
    expect(Date.now() - shownAt).toBeGreaterThan(2_500)
  })

  it('counts unread messages and mentions in the list', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('unread')
    await createGroup(ana, [ben], title)
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben)
    await item(benPage, title).waitFor()

    await openConversation(anaPage, title)
    await sendInApp(anaPage, 'first')
    await sendInApp(anaPage, 'second')
    const badge = row(benPage, title).getByTestId('unread-badge')
    await expect.poll(() => badge.innerText(), { timeout: REMOTE_TIMEOUT_MS }).toBe('2')

    await anaPage.getByTestId('composer').fill(`@${ben.user.username.slice(0, 6)}`)
    await anaPage.getByTestId('mention-option').filter({ hasText: ben.user.username }).click()
    await anaPage.getByTestId('composer').pressSequentially(' look', { delay: 10 })
    await anaPage.getByTestId('send').click()
    await row(benPage, title).getByTestId('mention-badge').waitFor({ timeout: REMOTE_TIMEOUT_MS })
    await expect.poll(() => badge.innerText(), { timeout: REMOTE_TIMEOUT_MS }).toBe('3')

    // Reading the conversation moves the read marker; the badge stays hidden while it is open.
    await openConversation(benPage, title)
    await benPage.getByTestId('message').last().waitFor()
    await benPage.evaluate(() => history.back())
    await benPage.getByTestId('composer').waitFor({ state: 'detached' })
    await expect
      .poll(() => row(benPage, title).getByTestId('unread-badge').count(), {
        timeout: REMOTE_TIMEOUT_MS,
      })
      .toBe(0)
    expect(await row(benPage, title).getByTestId('mention-badge').count()).toBe(0)
  })

  it('pins and mutes conversations', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const quiet = uniqueName('quiet')
    const busy = uniqueName('busy')
    await createGroup(ana, [ben], quiet)
    await createGroup(ana, [ben], busy)
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben)
    // The list fills in after the page has opened, so it is polled.
    await expect.poll(async () => (await listTitles(benPage))[0]).toBe(busy)

    await row(benPage, quiet).getByTestId('conversation-menu').click()
    await benPage.getByTestId('toggle-pin').click()
    await expect.poll(async () => (await listTitles(benPage))[0]).toBe(quiet)
    expect(await item(benPage, quiet).getAttribute('data-pinned')).toBe('true')

    await row(benPage, quiet).getByTestId('conversation-menu').click()
    await benPage.getByTestId('toggle-mute').click()
    await expect.poll(() => item(benPage, quiet).getAttribute('data-muted')).toBe('true')

    await openConversation(anaPage, quiet)
    await sendInApp(anaPage, 'muted news')
    await anaPage.getByTestId('composer').fill(`@${ben.user.username.slice(0, 6)}`)
    await anaPage.getByTestId('mention-option').filter({ hasText: ben.user.username }).click()
    await anaPage.getByTestId('send').click()
    await row(benPage, quiet).getByTestId('mention-badge').waitFor({ timeout: REMOTE_TIMEOUT_MS })
    expect(await row(benPage, quiet).getByTestId('unread-badge').count()).toBe(0)

    await row(benPage, quiet).getByTestId('conversation-menu').click()
    await benPage.getByTestId('toggle-mute').click()
    await row(benPage, quiet).getByTestId('unread-badge').waitFor()

    await benPage.reload()
    await item(benPage, quiet).waitFor()
    await expect.poll(async () => (await listTitles(benPage))[0]).toBe(quiet)
    expect(await item(benPage, quiet).getAttribute('data-muted')).toBe('false')
  })

  it('syncs pins and mutes across devices', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const quiet = uniqueName('quiet')
    const busy = uniqueName('busy')
    await createGroup(ana, [ben], quiet)
    await createGroup(ana, [ben], busy)
    const laptop = await openApp(ben)
    const phone = await openApp(ben, { viewport: PHONE })

    await row(laptop, quiet).getByTestId('conversation-menu').click()
    await laptop.getByTestId('toggle-pin').click()
    await expect
      .poll(async () => (await listTitles(phone))[0], { timeout: REMOTE_TIMEOUT_MS })
      .toBe(quiet)

    await phone.context().setOffline(true)
    await row(phone, busy).getByTestId('conversation-menu').click()
    await phone.getByTestId('toggle-mute').click()
    await row(laptop, quiet).getByTestId('conversation-menu').click()
    await laptop.getByTestId('toggle-mute').click()
    await phone.context().setOffline(false)

    await expect
      .poll(() => item(laptop, busy).getAttribute('data-muted'), { timeout: REMOTE_TIMEOUT_MS })
      .toBe('true')
    await expect
      .poll(() => item(phone, quiet).getAttribute('data-muted'), { timeout: REMOTE_TIMEOUT_MS })
      .toBe('true')
    expect(await item(phone, quiet).getAttribute('data-pinned')).toBe('true')
  })

  it('keeps a draft across a reload', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('draft')
    await createGroup(ana, [ben], title)
    const benPage = await openApp(ben)
    await openConversation(benPage, title)

    await benPage.getByTestId('composer').pressSequentially('half a thought', { delay: 20 })
    // Gives the composer's debounce time to write the draft.
    await benPage.waitForTimeout(1_500)
    await benPage.reload()
    await benPage.getByTestId('composer').waitFor()
    await expect
      .poll(() => benPage.getByTestId('composer').inputValue(), { timeout: 10_000 })
      .toBe('half a thought')

    await sendInApp(benPage, 'half a thought, sent')
    await benPage.waitForTimeout(1_500)
    await benPage.reload()
    await benPage.getByTestId('composer').waitFor()
    await benPage.waitForTimeout(1_000)
    expect(await benPage.getByTestId('composer').inputValue()).toBe('')
  })

  it('syncs drafts across devices', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('draft')
    await createGroup(ana, [ben], title)
    const laptop = await openApp(ben)
    await openConversation(laptop, title)
    await laptop.getByTestId('composer').pressSequentially('half a thought', { delay: 20 })

    const phone = await openApp(ben, { viewport: PHONE })
    await expect
      .poll(() => item(phone, title).innerText(), { timeout: REMOTE_TIMEOUT_MS })
      .toContain('Draft: half a thought')
    await openConversation(phone, title)
    expect(await phone.getByTestId('composer').inputValue()).toBe('half a thought')
  })

  it('signals new direct messages while the tab is hidden', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben, { fakeNotifications: true })
    await anaPage.getByTestId('new-chat').click()
    await anaPage.getByTestId('user-search').fill(ben.user.username)
    await anaPage.getByTestId('user-result').filter({ hasText: ben.user.username }).click()
    await anaPage.getByTestId('composer').waitFor()
    await sendInApp(anaPage, 'are you there?')
    await item(benPage, 'Ana Lima').waitFor({ timeout: REMOTE_TIMEOUT_MS })
    await row(benPage, 'Ana Lima').getByTestId('unread-badge').waitFor()

    await benPage.getByTestId('notification-prompt').waitFor()
    await benPage.getByTestId('notification-enable').click()
    await benPage.getByTestId('notification-prompt').waitFor({ state: 'detached' })

    await benPage.evaluate(() => window.parleyTest.setHidden(true))
    await sendInApp(anaPage, 'lunch at noon?')
    await expect.poll(() => benPage.title(), { timeout: REMOTE_TIMEOUT_MS }).toBe('(2) Parley')
    await expect
      .poll(() => benPage.evaluate(() => window.parleyTest.notifications.length), {
        timeout: REMOTE_TIMEOUT_MS,
      })
      .toBe(1)
    const notification = await benPage.evaluate(() => window.parleyTest.notifications[0])
    expect(notification?.title).toBe('Ana Lima')
    expect(notification?.body).toBe('lunch at noon?')

    await benPage.evaluate(() => window.parleyTest.click(0))
    await benPage.getByTestId('composer').waitFor()
    expect(new URL(benPage.url()).pathname).toMatch(/^\/c\//)
    await benPage.evaluate(() => window.parleyTest.setHidden(false))
    await expect.poll(() => benPage.title()).toBe('Parley')
  })

  it('changes the display name everywhere', async () => {
    const ana = await newUser('ana', 'Ana Lima')
    const ben = await newUser('ben', 'Ben Okafor')
    const title = uniqueName('names')
    await createGroup(ana, [ben], title)
    const anaPage = await openApp(ana)
    const benPage = await openApp(ben)
    await openConversation(anaPage, title)
    await sendInApp(anaPage, 'who am I?')
    await openConversation(benPage, title)
    await expect
      .poll(() => benPage.getByTestId('message-author').last().innerText(), { timeout: 10_000 })
      .toContain('Ana Lima')

    await anaPage.getByTestId('profile-menu').click()
    await anaPage.getByTestId('display-name-input').fill('Ana L. Souza')
    await anaPage.getByTestId('display-name-save').click()
    await anaPage.getByTestId('profile-menu').filter({ hasText: 'Ana L. Souza' }).waitFor()
    await expect
      .poll(() => anaPage.getByTestId('message-author').last().innerText(), { timeout: 10_000 })
      .toContain('Ana L. Souza')
    await expect
      .poll(() => benPage.getByTestId('message-author').last().innerText(), {
        timeout: REMOTE_TIMEOUT_MS,
      })
      .toContain('Ana L. Souza')
  })
})

/** Test hooks that FAKE_NOTIFICATIONS puts on window. */
interface ParleyTestHooks {
  notifications: { title: string; body: string | undefined }[]
  setHidden(hidden: boolean): void
  click(index: number): void
}

declare global {
  interface Window {
    parleyTest: ParleyTestHooks
  }
}

/**
 * Runs in the page before the app: replaces Notification with a recorder whose permission
 * the prompt grants, and makes the page's visibility settable, since a headless page is
 * always visible. Plain JavaScript, so no compiled helper can end up in the page.
 */
const FAKE_NOTIFICATIONS = `
  const recorded = []
  let permission = 'default'
  let hidden = false
  function RecordingNotification(title, options) {
    this.onclick = null
    recorded.push({ title, body: options && options.body, instance: this })
  }
  RecordingNotification.prototype.close = function () {}
  Object.defineProperty(RecordingNotification, 'permission', { get: () => permission })
  RecordingNotification.requestPermission = () => {
    permission = 'granted'
    return Promise.resolve(permission)
  }
  Object.defineProperty(window, 'Notification', { value: RecordingNotification })
  Object.defineProperty(document, 'visibilityState', {
    get: () => (hidden ? 'hidden' : 'visible'),
  })
  Object.defineProperty(document, 'hidden', { get: () => hidden })
  window.parleyTest = {
    get notifications() {
      return recorded.map(({ title, body }) => ({ title, body }))
    },
    setHidden(value) {
      hidden = value
      document.dispatchEvent(new Event('visibilitychange'))
    },
    click(index) {
      const entry = recorded[index]
      if (entry && entry.instance.onclick) entry.instance.onclick()
    },
  }
`

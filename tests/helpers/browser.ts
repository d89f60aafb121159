import path from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

/** Debian's Chromium; Playwright's own browser download does not work on these machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Built app served by test servers; the `pretest` script builds it. */
export const APP_DIR = path.resolve('app/dist')

export const DESKTOP = { width: 1280, height: 800 }
export const PHONE = { width: 390, height: 844 }

/** Launches headless Chromium with the flags this machine needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

/** Signs up through the app's form and waits for the conversation list. */
export async function signUpInApp(
  page: Page,
  baseUrl: string,
  username: string,
  displayName: string,
): Promise<void> {
  await page.goto(`${baseUrl}/signup`)
  await page.getByTestId('signup-username').fill(username)
  await page.getByTestId('signup-display-name').fill(displayName)
  await page.getByTestId('signup-password').fill('correct horse battery')
  await page.getByTestId('signup-submit').click()
  await page.getByTestId('new-chat').waitFor()
}

/** Starts a direct chat with a user found by name and waits for the composer. */
export async function startDirectChat(page: Page, username: string): Promise<void> {
  await page.getByTestId('new-chat').click()
  await page.getByTestId('user-search').fill(username)
  await page.getByTestId('user-result').filter({ hasText: username }).first().click()
  await page.getByTestId('composer').waitFor()
}

/** Types a message into the composer and sends it with Enter. */
export async function sendInApp(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text)
  await page.getByTestId('composer').press('Enter')
}

/** Returns the texts of the messages shown, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.getByTestId('message-text').allInnerTexts()
}

/** Returns whether the page scrolls sideways. */
export function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)
}

/** Opens a conversation by its address and waits for the composer. */
export async function openConversation(
  page: Page,
  baseUrl: string,
  conversationId: string,
): Promise<void> {
  await page.goto(`${baseUrl}/c/${conversationId}`)
  await page.getByTestId('composer').waitFor()
}

/** Sends an API request from the page, with its session cookie and origin. */
export async function requestFromPage<T = unknown>(
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

/** Returns the names of the page's IndexedDB databases that start with a prefix. */
export function localDatabases(page: Page, prefix: string): Promise<string[]> {
  return page.evaluate(async (start) => {
    const databases = await indexedDB.databases()
    return databases.flatMap(({ name }) => (name?.startsWith(start) ? [name] : [])).sort()
  }, prefix)
}

import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  APP_DIR,
  DESKTOP,
  PHONE,
  launchBrowser,
  messageTexts,
  scrollsSideways,
  sendInApp,
  signUpInApp,
  startDirectChat,
} from '../helpers/browser.ts'
import { uniqueName } from '../helpers/clients.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** The README's screenshots are replaced only on request (npm run screenshots). */
const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS
  ? 'docs/screenshots'
  : 'test-results/screenshots'

describe('chat in the browser', { timeout: 60_000 }, () => {
  let server: TestServer
  let browser: Browser
  let anaContext: BrowserContext
  let benContext: BrowserContext
  let ana: Page
  let ben: Page
  const anaName = uniqueName('ana')
  const benName = uniqueName('ben')

  beforeAll(async () => {
    server = await startTestServer({ config: { appDir: APP_DIR } })
    browser = await launchBrowser()
    anaContext = await browser.newContext({ viewport: DESKTOP })
    benContext = await browser.newContext({ viewport: DESKTOP })
    ana = await anaContext.newPage()
    ben = await benContext.newPage()
    await signUpInApp(ben, server.url, benName, 'Ben Okafor')
    await signUpInApp(ana, server.url, anaName, 'Ana Lima')
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await server?.database.drop()
  })

  it('delivers messages live between two users', async () => {
    await startDirectChat(ana, benName)
    await sendInApp(ana, 'Hi Ben, lunch at noon?')
    await expect
      .poll(() => ana.getByTestId('message').last().getAttribute('data-state'), { timeout: 10_000 })
      .toBe('sent')

    const item = ben.getByTestId('conversation-item').first()
    await item.waitFor({ timeout: 20_000 })
    await item.click()
    await expect
      .poll(() => messageTexts(ben), { timeout: 10_000 })
      .toEqual(['Hi Ben, lunch at noon?'])
    await expect
      .poll(() => ben.getByTestId('message-author').first().innerText())
      .toContain('Ana Lima')

    await sendInApp(ben, 'Noon works.\nSee you there')
    await expect
      .poll(() => messageTexts(ana), { timeout: 10_000 })
      .toEqual(['Hi Ben, lunch at noon?', 'Noon works.\nSee you there'])
  })

  it('fits desktop and phone without sideways scrolling', async () => {
    expect(await scrollsSideways(ana)).toBe(false)
    await ana.screenshot({ path: `${SCREENSHOT_DIR}/desktop.png` })

    const phone = await anaContext.newPage()
    await phone.setViewportSize(PHONE)
    await phone.goto(server.url)
    await phone.getByTestId('conversation-item').first().click()
    await expect.poll(() => messageTexts(phone), { timeout: 10_000 }).toHaveLength(2)
    expect(await scrollsSideways(phone)).toBe(false)
    await phone.screenshot({ path: `${SCREENSHOT_DIR}/phone.png` })
    await phone.close()
  })

  it('sends messages written offline once the server returns', async () => {
    const before = await messageTexts(ben)
    await server.stop()
    await expect
      .poll(() => ana.getByTestId('connection-state').getAttribute('data-state'), {
        timeout: 15_000,
      })
      .not.toBe('online')

    const offline = ['first while offline', 'second while offline', 'third while offline']
    for (const text of offline) await sendInApp(ana, text)
    const states = await ana
      .getByTestId('message')
      .evaluateAll((nodes) => nodes.slice(-3).map((node) => node.getAttribute('data-state')))
    expect(states).toEqual(['pending', 'pending', 'pending'])

    await server.start()
    await expect.poll(() => messageTexts(ben), { timeout: 40_000 }).toEqual([...before, ...offline])
    await expect
      .poll(
        () =>
          ana
            .getByTestId('message')
            .evaluateAll((nodes) => nodes.slice(-3).map((node) => node.getAttribute('data-state'))),
        { timeout: 20_000 },
      )
      .toEqual(['sent', 'sent', 'sent'])
  })
})

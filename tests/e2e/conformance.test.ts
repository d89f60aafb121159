// A client written from docs/protocol.md alone: it imports yjs and @hocuspocus/provider and
// nothing from the project, talks to a server process over HTTP and /sync, and exchanges
// messages with the app running in Chromium.
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import * as Y from 'yjs'

let serverProcess: ChildProcess
let baseUrl: string
let dataDir: string
let browser: Browser

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => {
        if (typeof address === 'object' && address) resolve(address.port)
        else reject(new Error('no port was assigned'))
      })
    })
  })
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the server at ${url} did not become healthy within 30 s`)
}

async function post(pathname: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(response.ok, `${pathname} answered ${response.status}`).toBe(true)
  return (await response.json()) as Record<string, unknown>
}

beforeAll(async () => {
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-conformance-'))
  serverProcess = spawn(process.execPath, ['--import', 'tsx', 'sync-server/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      APP_DIR: path.resolve('app/dist'),
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
      REDIS_URL: '',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  await waitForHealth(baseUrl)
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})

afterAll(async () => {
  await browser?.close()
  serverProcess?.kill('SIGTERM')
  await new Promise((resolve) => serverProcess?.once('exit', resolve))
  fs.rmSync(dataDir, { recursive: true, force: true })
})

it('exchanges messages with the app', async () => {
  const suffix = Date.now().toString(36)
  const botName = `bot_${suffix}`
  const personName = `person_${suffix}`
  const password = 'correct horse battery'

  const signup = await post('/api/auth/signup', { username: botName, password, displayName: 'Bot' })
  const bot = signup.user as { id: string }
  const { token } = (await post('/api/auth/token', { username: botName, password })) as {
    token: string
  }

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.goto(`${baseUrl}/signup`)
  await page.getByTestId('signup-username').fill(personName)
  await page.getByTestId('signup-password').fill(password)
  await page.getByTestId('signup-submit').click()
  await page.getByTestId('new-chat').click()
  await page.getByTestId('user-search').fill(botName)
  await page.getByTestId('user-result').filter({ hasText: botName }).first().click()
  await page.getByTestId('composer').fill('hello bot')
  await page.getByTestId('composer').press('Enter')

  const listed = await fetch(`${baseUrl}/api/conversations`, {
    headers: { authorization: `Bearer ${token}` },
  })
  const { conversations } = (await listed.json()) as {
    conversations: { id: string; members: { user: { id: string; username: string } }[] }[]
  }
  expect(conversations).toHaveLength(1)
  const conversation = conversations[0]!
  const person = conversation.members.find((member) => member.user.username === personName)!

  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url: `${baseUrl.replace('http', 'ws')}/sync` })
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name: `conv:${conversation.id}`,
    document: doc,
    token,
  })
  provider.attach()

  const messages = doc.getArray('messages')
  const read = () =>
    messages
      .toArray()
      .filter((entry): entry is Y.Map<unknown> => entry instanceof Y.Map)
      .map((entry) => entry.toJSON() as Record<string, unknown>)
  await expect
    .poll(() => read().map((message) => message.text), { timeout: 15_000 })
    .toEqual(['hello bot'])
  const received = read()[0]!
  expect(received.authorId).toBe(person.user.id)
  expect(typeof received.id).toBe('string')
  expect(typeof received.createdAt).toBe('number')

  const entry = new Y.Map()
  entry.set('id', `bot${suffix}reply`.padEnd(20, '0').slice(0, 20))
  entry.set('authorId', bot.id)
  entry.set('text', 'hello from a bot')
  entry.set('createdAt', Date.now())
  doc.transact(() => messages.insert(messages.length, [entry]))

  await expect
    .poll(() => page.getByTestId('message-text').allInnerTexts(), { timeout: 15_000 })
    .toEqual(['hello bot', 'hello from a bot'])
  await expect.poll(() => page.getByTestId('message-author').last().innerText()).toContain('Bot')
  await expect.poll(() => provider.unsyncedChanges, { timeout: 10_000 }).toBe(0)

  provider.destroy()
  socket.destroy()
})

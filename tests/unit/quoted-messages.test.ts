import { describe, expect, it } from 'vitest'
import type { ChatMessage } from '../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../shared/ids.ts'
import { QuotedMessages } from '../../app/src/sync/quoted-messages.ts'

const ORIGINAL: ChatMessage = {
  id: 'm1' as MessageId,
  authorId: 'ana' as UserId,
  text: 'the plan',
  createdAt: 1,
  mentions: [],
  deleted: false,
}

/** Creates a look-up that the test resolves by hand, recording the requested ids. */
function controlledFetch() {
  const requested: MessageId[] = []
  const responses: ((message: ChatMessage | null | Error) => void)[] = []
  const fetch = (messageId: MessageId) => {
    requested.push(messageId)
    return new Promise<ChatMessage | null>((resolve, reject) => {
      responses.push((response) =>
        response instanceof Error ? reject(response) : resolve(response),
      )
    })
  }
  return {
    fetch,
    requested,
    respond: (index: number, message: ChatMessage | null | Error) => responses[index]?.(message),
  }
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('QuotedMessages', () => {
  it('fetches an original once', async () => {
    const { fetch, requested, respond } = controlledFetch()
    let found = 0
    const quotes = new QuotedMessages(fetch, () => found++)

    quotes.request(ORIGINAL.id)
    quotes.request(ORIGINAL.id)
    respond(0, ORIGINAL)
    await settled()
    quotes.request(ORIGINAL.id)

    expect(requested).toEqual([ORIGINAL.id])
    expect(found).toBe(1)
    expect(quotes.messages.get(ORIGINAL.id)).toEqual(ORIGINAL)
  })

  it('replaces the map on each addition', async () => {
    const { fetch, respond } = controlledFetch()
    const quotes = new QuotedMessages(fetch, () => undefined)
    const before = quotes.messages

    quotes.request(ORIGINAL.id)
    respond(0, ORIGINAL)
    await settled()

    expect(quotes.messages).not.toBe(before)
    expect(before.size).toBe(0)
  })

  it('waits before trying a failed look-up again', async () => {
    const { fetch, requested, respond } = controlledFetch()
    let now = 1_000
    let found = 0
    const quotes = new QuotedMessages(
      fetch,
      () => found++,
      () => now,
    )

    quotes.request(ORIGINAL.id)
    respond(0, new Error('offline'))
    await settled()
    quotes.request(ORIGINAL.id)
    now += 30_000
    quotes.request(ORIGINAL.id)
    respond(1, null)
    await settled()
    quotes.request(ORIGINAL.id)

    expect(requested).toEqual([ORIGINAL.id, ORIGINAL.id])
    expect(found).toBe(0)
    expect(quotes.messages.size).toBe(0)
  })
})

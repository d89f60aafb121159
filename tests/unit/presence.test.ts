import { afterEach, describe, expect, it, vi } from 'vitest'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { UserId } from '../../shared/ids.ts'
import { PresenceDirectory } from '../../app/src/presence/presence-directory.ts'
import type { AwarenessSource } from '../../app/src/presence/session-presence.ts'
import { SessionPresence } from '../../app/src/presence/session-presence.ts'
import { typingSentence } from '../../app/src/presence/typing-sentence.ts'
import { TypingPublisher } from '../../app/src/presence/typing-publisher.ts'

const ana = { id: 'ana-user-id' as UserId, name: 'Ana Lima' }
const ben = { id: 'ben-user-id' as UserId, name: 'Ben Okafor' }

/** A stand-in for ConversationSession: an awareness that can be swapped like on reconnect. */
class FakeSession implements AwarenessSource {
  awareness: Awareness | null
  private readonly listeners = new Set<() => void>()

  constructor(
    readonly documentName: string,
    awareness: Awareness | null = new Awareness(new Y.Doc()),
  ) {
    this.awareness = awareness
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Replaces the awareness the way a new provider does: destroy the old, notify. */
  reconnect(): Awareness {
    this.awareness?.destroy()
    const next = new Awareness(new Y.Doc())
    this.awareness = next
    for (const listener of this.listeners) listener()
    return next
  }
}

/**
 * Copies every state of one awareness into another, as the server's relay would. The local
 * client is always included, so that a removed (null) local state travels too.
 */
function relay(from: Awareness, to: Awareness): void {
  const clients = new Set([from.clientID, ...from.getStates().keys()])
  applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [...clients]), 'test')
}

describe('SessionPresence', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('publishes the user and typing state', () => {
    vi.useFakeTimers()
    const session = new FakeSession('conv:one')
    const presence = new SessionPresence(session, ana)
    expect(session.awareness?.getLocalState()).toEqual({ user: ana, typing: false })

    presence.setTyping(true)
    vi.advanceTimersByTime(300)
    expect(session.awareness?.getLocalState()).toEqual({ user: ana, typing: true })
    presence.dispose()
  })

  it('lists other users typing, not this user', () => {
    vi.useFakeTimers()
    const anaSession = new FakeSession('conv:one')
    const benSession = new FakeSession('conv:one')
    const anaPresence = new SessionPresence(anaSession, ana)
    const benPresence = new SessionPresence(benSession, ben)

    benPresence.setTyping(true)
    anaPresence.setTyping(true)
    vi.advanceTimersByTime(300)
    relay(benSession.awareness as Awareness, anaSession.awareness as Awareness)

    const snapshot = anaPresence.getSnapshot()
    expect(snapshot.typing).toEqual([ben])
    expect([...snapshot.online].sort()).toEqual([ana.id, ben.id])
    anaPresence.dispose()
    benPresence.dispose()
  })

  it('publishes again on a new awareness after reconnect', () => {
    vi.useFakeTimers()
    const session = new FakeSession('conv:one')
    const presence = new SessionPresence(session, ana)
    presence.setTyping(true)
    vi.advanceTimersByTime(1_000)

    const next = session.reconnect()

    expect(next.getLocalState()).toEqual({ user: ana, typing: true })
    presence.dispose()
  })

  it('spaces updates out for the server rate limit', () => {
    vi.useFakeTimers()
    const session = new FakeSession('conv:one')
    const presence = new SessionPresence(session, ana)

    presence.setTyping(true)
    expect(session.awareness?.getLocalState()?.typing).toBe(false)
    vi.advanceTimersByTime(300)
    expect(session.awareness?.getLocalState()?.typing).toBe(true)
    presence.dispose()
  })

  it('sends typing again after a second', () => {
    vi.useFakeTimers()
    const session = new FakeSession('conv:one')
    const presence = new SessionPresence(session, ana)
    vi.advanceTimersByTime(1_000)
    const sent = vi.fn()
    session.awareness?.on('update', sent)

    presence.setTyping(true)
    vi.advanceTimersByTime(1_000)

    expect(sent).toHaveBeenCalledTimes(2)
    presence.dispose()
  })

  it('counts a user online once across clients', () => {
    const mine = new FakeSession('conv:one')
    const tab = new FakeSession('conv:one')
    const laptop = new FakeSession('conv:one')
    const presence = new SessionPresence(mine, ana)
    new SessionPresence(tab, ben).dispose()
    new SessionPresence(laptop, ben).dispose()
    relay(tab.awareness as Awareness, mine.awareness as Awareness)
    relay(laptop.awareness as Awareness, mine.awareness as Awareness)

    expect(presence.getSnapshot().online.size).toBe(2)
    presence.dispose()
  })
})

describe('PresenceDirectory', () => {
  it('unites online users of every open conversation', () => {
    const directory = new PresenceDirectory(ana)
    const first = new FakeSession('conv:one')
    const second = new FakeSession('conv:two')
    directory.track(first)
    directory.track(second)
    const other = new FakeSession('conv:two')
    new SessionPresence(other, ben).dispose()

    relay(other.awareness as Awareness, second.awareness as Awareness)

    expect([...directory.getOnline()].sort()).toEqual([ana.id, ben.id])
    directory.destroy()
  })

  it('drops a user whose client is removed', () => {
    const directory = new PresenceDirectory(ana)
    const session = new FakeSession('conv:one')
    directory.track(session)
    const other = new FakeSession('conv:one')
    new SessionPresence(other, ben).dispose()
    relay(other.awareness as Awareness, session.awareness as Awareness)
    expect(directory.getOnline().has(ben.id)).toBe(true)

    other.awareness?.setLocalState(null)
    relay(other.awareness as Awareness, session.awareness as Awareness)

    expect(directory.getOnline().has(ben.id)).toBe(false)
    directory.destroy()
  })

  it('returns the same presence for the same session', () => {
    const directory = new PresenceDirectory(ana)
    const session = new FakeSession('conv:one')
    expect(directory.track(session)).toBe(directory.track(session))
    directory.destroy()
  })
})

describe('TypingPublisher', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('clears typing 4 s after the last keystroke', () => {
    vi.useFakeTimers()
    const setTyping = vi.fn()
    const publisher = new TypingPublisher({ setTyping })

    publisher.noteKeystroke()
    vi.advanceTimersByTime(3_000)
    publisher.noteKeystroke()
    vi.advanceTimersByTime(3_999)
    expect(setTyping.mock.calls).toEqual([[true]])

    vi.advanceTimersByTime(1)
    expect(setTyping.mock.calls).toEqual([[true], [false]])
  })

  it('stops at once on send', () => {
    vi.useFakeTimers()
    const setTyping = vi.fn()
    const publisher = new TypingPublisher({ setTyping })

    publisher.noteKeystroke()
    publisher.stop()
    vi.advanceTimersByTime(5_000)

    expect(setTyping.mock.calls).toEqual([[true], [false]])
  })
})

describe('typingSentence', () => {
  it('names one, two or more typists', () => {
    const carla = { id: 'carla-user-id' as UserId, name: 'Carla' }
    const dan = { id: 'dan-user-id' as UserId, name: 'Dan' }
    expect(typingSentence([])).toBeNull()
    expect(typingSentence([ana])).toBe('Ana Lima is typing…')
    expect(typingSentence([ana, ben])).toBe('Ana Lima and Ben Okafor are typing…')
    expect(typingSentence([ana, ben, carla])).toBe('Ana Lima, Ben Okafor and 1 other are typing…')
    expect(typingSentence([ana, ben, carla, dan])).toBe(
      'Ana Lima, Ben Okafor and 2 others are typing…',
    )
  })
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  editMessage,
  listMessages,
  OPEN_SEGMENT_KEY,
  readMarkers,
  SEGMENTS_ROOT,
  sendMessage,
} from '../../shared/chat-document.ts'
import type { MessageId, UserId } from '../../shared/ids.ts'
import {
  anchoredScrollTop,
  firstVisibleRow,
  LOAD_OLDER_WITHIN_PX,
  releaseDistance,
  shouldLoadOlder,
  shouldReleaseOldest,
} from '../../app/src/conversation/history-scroll.ts'
import type { SyncProblem } from '../../app/src/sync/conversation-snapshot.ts'
import { writeReadMarker } from '../../app/src/sync/conversation-writes.ts'
import type { DocumentSync } from '../../app/src/sync/document-sync.ts'
import type { LocalCopy } from '../../app/src/sync/local-copy-budget.ts'
import { chooseEvictions, LocalCopyBudget } from '../../app/src/sync/local-copy-budget.ts'
import { MessageRecovery } from '../../app/src/sync/message-recovery.ts'
import { SegmentHistory } from '../../app/src/sync/segment-history.ts'
import {
  firstShownSegment,
  PAGE_MESSAGES,
  rangeAfterOpenMoved,
  segmentsOf,
} from '../../app/src/sync/segment-plan.ts'
import { isQuotaExceeded } from '../../app/src/sync/storage-errors.ts'
import { UnsyncedSegments } from '../../app/src/sync/unsynced-segments.ts'
import { writeUnsentChangesAgain } from '../../app/src/sync/unsent-changes.ts'
import { writeUnsentAgain } from '../../app/src/sync/unsent-messages.ts'

const ana = 'user-ana-1' as UserId
const ben = 'user-ben-1' as UserId

/** localStorage for Node, which has none without a flag. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>()

  get length(): number {
    return this.items.size
  }

  clear(): void {
    this.items.clear()
  }

  getItem(key: string): string | null {
    return this.items.get(key) ?? null
  }

  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null
  }

  removeItem(key: string): void {
    this.items.delete(key)
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value)
  }
}

describe('first page plan', () => {
  it('shows the open segment alone when it fills a page', () => {
    expect(firstShownSegment(4, PAGE_MESSAGES)).toBe(4)
  })

  it('adds the previous segment to a short open one', () => {
    expect(firstShownSegment(4, PAGE_MESSAGES - 1)).toBe(3)
    expect(firstShownSegment(4, 0)).toBe(3)
  })

  it('shows only the live document before any rotation', () => {
    expect(firstShownSegment(0, 3)).toBe(0)
  })

  it('extends the range by the next open segment', () => {
    expect(rangeAfterOpenMoved({ first: 2, open: 3 }, 4)).toEqual({ first: 2, open: 4 })
  })

  it('starts over after a jump of several segments', () => {
    expect(rangeAfterOpenMoved({ first: 2, open: 3 }, 7)).toEqual({ first: 7, open: 7 })
  })

  it('keeps the range while open stays', () => {
    const range = { first: 1, open: 3 }
    expect(rangeAfterOpenMoved(range, 3)).toBe(range)
  })

  it('lists segments oldest first', () => {
    expect(segmentsOf({ first: 2, open: 4 })).toEqual([2, 3, 4])
    expect(segmentsOf({ first: 0, open: 0 })).toEqual([0])
  })
})

describe('chooseEvictions', () => {
  const copy = (database: string, bytes: number, shownAt: number): LocalCopy => ({
    database,
    bytes,
    shownAt,
  })

  it('evicts least recently shown first', () => {
    const copies = [copy('b', 40, 2), copy('a', 40, 1), copy('c', 40, 3)]
    expect(chooseEvictions(copies, 80, new Set())).toEqual(['a'])
    expect(chooseEvictions(copies, 40, new Set())).toEqual(['a', 'b'])
  })

  it('keeps everything within the budget', () => {
    expect(chooseEvictions([copy('a', 10, 1), copy('b', 10, 2)], 20, new Set())).toEqual([])
  })

  it('never evicts a copy in use', () => {
    const copies = [copy('a', 40, 1), copy('b', 40, 2), copy('c', 40, 3)]
    expect(chooseEvictions(copies, 40, new Set(['a']))).toEqual(['b', 'c'])
  })

  it('counts copies in use toward the total', () => {
    const copies = [copy('a', 100, 1), copy('b', 10, 2)]
    expect(chooseEvictions(copies, 50, new Set(['a']))).toEqual(['b'])
  })
})

describe('LocalCopyBudget', () => {
  let deleted: string[]
  let quotaErrors: number

  beforeEach(() => {
    vi.stubGlobal('localStorage', new MemoryStorage())
    deleted = []
    quotaErrors = 0
  })

  afterEach(() => {
    vi.unstubAllGlobals()
  })

  function budget(budgetBytes: number): LocalCopyBudget {
    return new LocalCopyBudget({
      storageKey: 'copies',
      budgetBytes,
      deleteDatabase: (name) => {
        deleted.push(name)
        return Promise.resolve()
      },
      onQuotaExceeded: () => quotaErrors++,
    })
  }

  it('deletes the oldest copy past the budget', () => {
    const copies = budget(100)
    copies.close('seg-1', 60, { unsynced: false, now: 1 })
    copies.close('seg-2', 60, { unsynced: false, now: 2 })
    expect(deleted).toEqual(['seg-1'])
    expect(copies.read().map((copy) => copy.database)).toEqual(['seg-2'])
  })

  it('updates the shown time on a second close', () => {
    const copies = budget(100)
    copies.close('seg-1', 60, { unsynced: false, now: 1 })
    copies.close('seg-1', 60, { unsynced: false, now: 3 })
    copies.close('seg-2', 60, { unsynced: false, now: 2 })
    expect(deleted).toEqual(['seg-2'])
  })

  it('spares a segment shown now', () => {
    const copies = budget(100)
    copies.close('seg-1', 60, { unsynced: false, now: 1 })
    copies.open('seg-1')
    copies.close('seg-2', 60, { unsynced: false, now: 2 })
    expect(deleted).toEqual(['seg-2'])
  })

  it('drops an unsynced copy from the list', () => {
    const copies = budget(100)
    copies.close('seg-1', 60, { unsynced: false, now: 1 })
    copies.close('seg-1', 0, { unsynced: true, now: 2 })
    copies.close('seg-2', 90, { unsynced: false, now: 3 })
    expect(deleted).toEqual([])
    expect(copies.read().map((copy) => copy.database)).toEqual(['seg-2'])
  })

  it('reports a full localStorage', () => {
    const copies = budget(100)
    vi.spyOn(localStorage, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError')
    })
    copies.close('seg-1', 10, { unsynced: false, now: 1 })
    expect(quotaErrors).toBe(1)
  })
})

describe('UnsyncedSegments', () => {
  beforeEach(() => {
    vi.stubGlobal('localStorage', new MemoryStorage())
  })

  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('survives a reload', () => {
    new UnsyncedSegments('key').add(3)
    new UnsyncedSegments('key').add(1)
    const reloaded = new UnsyncedSegments('key')
    expect(reloaded.list()).toEqual([1, 3])
    reloaded.remove(3)
    expect(new UnsyncedSegments('key').list()).toEqual([1])
  })

  it('ignores the live document', () => {
    const segments = new UnsyncedSegments('key')
    segments.add(0)
    expect(segments.has(0)).toBe(false)
  })
})

describe('isQuotaExceeded', () => {
  it('matches the DOMException and the lib0 wrapping', () => {
    expect(isQuotaExceeded(new DOMException('full', 'QuotaExceededError'))).toBe(true)
    expect(isQuotaExceeded(new Error('QuotaExceededError: full'))).toBe(true)
  })

  it('rejects other errors', () => {
    expect(isQuotaExceeded(new DOMException('gone', 'InvalidStateError'))).toBe(false)
    expect(isQuotaExceeded(undefined)).toBe(false)
  })
})

describe('scroll anchoring', () => {
  it('finds the first row reaching into view', () => {
    const bottoms = [-300, -120, -1, 40, 90, 400]
    expect(firstVisibleRow(bottoms.length, (i) => bottoms[i] ?? 0)).toBe(3)
  })

  it('finds no row when all are above', () => {
    expect(firstVisibleRow(2, () => -10)).toBe(-1)
    expect(firstVisibleRow(0, () => 10)).toBe(-1)
  })

  it('takes the first row when none is above', () => {
    expect(firstVisibleRow(3, (i) => 50 + i * 50)).toBe(0)
  })

  it('measures few rows of a long list', () => {
    let measured = 0
    firstVisibleRow(10_000, (i) => {
      measured++
      return i * 60 - 300_000
    })
    expect(measured).toBeLessThanOrEqual(15)
  })

  it('moves the scroll by the anchor shift', () => {
    // A segment of 1,800 px loaded above the message at the top of the viewport.
    const anchor = { messageId: 'm', top: 12 }
    expect(anchoredScrollTop(0, anchor, 1_812)).toBe(1_800)
    // A segment of 900 px released above it.
    expect(anchoredScrollTop(2_000, anchor, -888)).toBe(1_100)
  })
})

describe('segment loading and release', () => {
  it('loads near the top', () => {
    const metrics = { scrollHeight: 5_000, clientHeight: 800 }
    expect(shouldLoadOlder({ ...metrics, scrollTop: LOAD_OLDER_WITHIN_PX - 1 })).toBe(true)
    expect(shouldLoadOlder({ ...metrics, scrollTop: LOAD_OLDER_WITHIN_PX })).toBe(false)
  })

  it('loads when the list does not scroll', () => {
    expect(shouldLoadOlder({ scrollTop: 0, scrollHeight: 600, clientHeight: 800 })).toBe(true)
  })

  it('releases a segment far above the view', () => {
    expect(shouldReleaseOldest(-1_601, 800)).toBe(true)
    expect(shouldReleaseOldest(-1_599, 800)).toBe(false)
  })

  it('leaves the reader outside the loading zone', () => {
    for (const clientHeight of [100, 400, 844]) {
      expect(releaseDistance(clientHeight)).toBeGreaterThan(LOAD_OLDER_WITHIN_PX)
    }
  })
})

describe('read marker across segments', () => {
  const order = (ids: string[]) => (id: MessageId) => {
    const index = ids.indexOf(id)
    return index < 0 ? undefined : index
  }

  it('moves by conversation order', () => {
    const live = new Y.Doc()
    expect(writeReadMarker(live, ana, 'b' as MessageId, order(['a', 'b']))).toBe(true)
    expect(writeReadMarker(live, ana, 'a' as MessageId, order(['a', 'b']))).toBe(false)
    expect(readMarkers(live).get(ana)?.messageId).toBe('b')
  })

  it('passes a marker in an older segment', () => {
    const live = new Y.Doc()
    live.getMap('reads').set(ana, { messageId: 'old', at: 1 })
    expect(writeReadMarker(live, ana, 'b' as MessageId, order(['a', 'b']), false)).toBe(false)
    expect(writeReadMarker(live, ana, 'b' as MessageId, order(['a', 'b']), true)).toBe(true)
  })
})

describe('MessageRecovery', () => {
  /** State of a dropped copy without other own unsent changes. */
  const NOTHING_REJECTED = Y.encodeStateAsUpdate(new Y.Doc())

  /** Creates a stand-in for DocumentSync with the state that recovery reads. */
  function fakeUnit(segment: number) {
    const doc = new Y.Doc()
    const unit = {
      segment,
      doc,
      isSyncedNow: false,
      canWrite: true,
      syncProblem: null as SyncProblem | null,
      hasMessage: (id: MessageId) => listMessages(doc).some((message) => message.id === id),
      writeAgain: (
        unsent: Parameters<typeof writeUnsentAgain>[2],
        isStored: (id: MessageId) => boolean,
      ) => writeUnsentAgain(doc, ana, unsent, isStored),
      writeChangesAgain: (state: Uint8Array) => writeUnsentChangesAgain(doc, state, ana),
    }
    return { unit, sync: unit as unknown as DocumentSync }
  }

  function setup() {
    const live = fakeUnit(0)
    const closed = fakeUnit(3)
    const open = fakeUnit(4)
    const units = [live, closed, open]
    const recovery = new MessageRecovery()
    const targets = {
      live: live.sync,
      open: open.sync,
      isStored: (id: MessageId) => units.some(({ unit }) => unit.hasMessage(id)),
    }
    return { live, closed, open, recovery, targets }
  }

  it('waits for the live document and the source', () => {
    const { live, closed, open, recovery, targets } = setup()
    recovery.add(
      closed.sync,
      'invalid_update',
      [{ id: 'old-1' as MessageId, text: 'hello' }],
      NOTHING_REJECTED,
    )
    open.unit.isSyncedNow = true
    expect(recovery.flush(targets)).toBeNull()

    live.unit.isSyncedNow = true
    expect(recovery.flush(targets)).toBeNull()

    closed.unit.isSyncedNow = true
    expect(recovery.flush(targets)).toEqual({
      reason: 'invalid_update',
      resent: 1,
      lost: 0,
      rewritten: 0,
    })
    expect(listMessages(open.unit.doc).map((message) => message.text)).toEqual(['hello'])
    expect(recovery.waiting).toBe(false)
  })

  it('skips messages the server stored before', () => {
    const { live, closed, open, recovery, targets } = setup()
    const stored = sendMessage(closed.unit.doc, { authorId: ana, text: 'stored' })
    recovery.add(
      closed.sync,
      'invalid_update',
      [
        { id: stored.id, text: 'stored' },
        { id: 'old-2' as MessageId, text: 'lost in the rejection' },
      ],
      NOTHING_REJECTED,
    )
    for (const { unit } of [live, closed, open]) unit.isSyncedNow = true
    expect(recovery.flush(targets)).toEqual({
      reason: 'invalid_update',
      resent: 1,
      lost: 0,
      rewritten: 0,
    })
    expect(listMessages(open.unit.doc).map((message) => message.text)).toEqual([
      'lost in the rejection',
    ])
  })

  it('writes a batch only once', () => {
    const { live, closed, open, recovery, targets } = setup()
    recovery.add(
      closed.sync,
      'invalid_update',
      [{ id: 'old-3' as MessageId, text: 'once' }],
      NOTHING_REJECTED,
    )
    for (const { unit } of [live, closed, open]) unit.isSyncedNow = true
    recovery.flush(targets)
    expect(recovery.flush(targets)).toBeNull()
    expect(listMessages(open.unit.doc)).toHaveLength(1)
  })

  it('keeps a reply to a message in another segment', () => {
    const { live, closed, open, recovery, targets } = setup()
    const original = sendMessage(closed.unit.doc, { authorId: ben, text: 'question' })
    recovery.add(
      open.sync,
      'invalid_update',
      [{ id: 'old-4' as MessageId, text: 'answer', replyTo: original.id }],
      NOTHING_REJECTED,
    )
    for (const { unit } of [live, closed, open]) unit.isSyncedNow = true
    recovery.flush(targets)
    expect(listMessages(open.unit.doc)[0]?.replyTo).toBe(original.id)
  })

  it('writes an offline edit into the source once it synced again', () => {
    const { live, closed, open, recovery, targets } = setup()
    const own = sendMessage(closed.unit.doc, { authorId: ana, text: 'before', now: 1_000 })
    // The device's copy, which the server rejects, edits the message and adds a new one.
    const rejected = new Y.Doc()
    Y.applyUpdate(rejected, Y.encodeStateAsUpdate(closed.unit.doc))
    editMessage(rejected, { messageId: own.id, userId: ana, text: 'after', now: 2_000 })
    recovery.add(
      closed.sync,
      'invalid_update',
      [{ id: 'old-6' as MessageId, text: 'new' }],
      Y.encodeStateAsUpdate(rejected),
    )
    live.unit.isSyncedNow = true
    open.unit.isSyncedNow = true
    expect(recovery.flush(targets)).toBeNull()

    closed.unit.isSyncedNow = true
    expect(recovery.flush(targets)).toMatchObject({ resent: 1, rewritten: 1 })
    expect(listMessages(closed.unit.doc).map((message) => message.text)).toEqual(['after'])
    expect(listMessages(open.unit.doc).map((message) => message.text)).toEqual(['new'])
  })

  it('does not wait for a stopped source', () => {
    const { live, closed, open, recovery, targets } = setup()
    recovery.add(
      closed.sync,
      'invalid_update',
      [{ id: 'old-5' as MessageId, text: 'text' }],
      NOTHING_REJECTED,
    )
    live.unit.isSyncedNow = true
    open.unit.isSyncedNow = true
    closed.unit.syncProblem = { kind: 'rejected', reason: 'invalid_update' }
    expect(recovery.flush(targets)?.resent).toBe(1)
  })
})

describe('SegmentHistory', () => {
  beforeEach(() => {
    vi.stubGlobal('localStorage', new MemoryStorage())
  })

  afterEach(() => {
    vi.unstubAllGlobals()
  })

  /** Builds the parts of a DocumentSync that SegmentHistory reads, over a real Y.Doc. */
  function unit(segment: number, doc = new Y.Doc()): DocumentSync {
    const fields = {
      documentName: `conv:history${segment}`,
      segment,
      document: doc,
      isLoaded: true,
      hasSynced: false,
      syncProblem: null,
      hasUnsyncedWork: false,
      messageCount: () => listMessages(doc).length,
      hasMessage: () => false,
      encodedSize: () => Y.encodeStateAsUpdate(doc).length,
      destroy: () => doc.destroy(),
    }
    return fields as unknown as DocumentSync
  }

  function history(
    live: DocumentSync,
    locate: (messageId: MessageId) => Promise<number | undefined> = () =>
      Promise.resolve(undefined),
  ) {
    const created: number[] = []
    const segments = new SegmentHistory({
      live,
      budget: new LocalCopyBudget({ storageKey: 'copies', onQuotaExceeded: () => {} }),
      unsynced: new UnsyncedSegments('unsynced'),
      createUnit: (segment) => {
        created.push(segment)
        return unit(segment)
      },
      locate,
      onChange: () => {},
    })
    return { segments, created }
  }

  it('opens the listed open segment at once', () => {
    const { segments, created } = history(unit(0))
    segments.update()
    expect(segments.view().openSegment).toBe(0)

    segments.learnOpenSegment(4)
    expect(segments.view().openSegment).toBe(4)
    expect(created).toEqual([4])
    segments.destroy()
  })

  it('keeps a newer segment from the live document', () => {
    const liveDoc = new Y.Doc()
    liveDoc.getMap(SEGMENTS_ROOT).set(OPEN_SEGMENT_KEY, 5)
    const { segments, created } = history(unit(0, liveDoc))
    segments.update()

    segments.learnOpenSegment(3)
    expect(segments.view().openSegment).toBe(5)
    expect(created).toEqual([5])
    segments.destroy()
  })

  it('opens the located segment at once', async () => {
    const liveDoc = new Y.Doc()
    liveDoc.getMap(SEGMENTS_ROOT).set(OPEN_SEGMENT_KEY, 6)
    const { segments, created } = history(unit(0, liveDoc), () => Promise.resolve(2))
    segments.update()
    expect(created).toEqual([6])

    void segments.findEarlier('old-message' as MessageId)
    await vi.waitFor(() => expect(created).toContain(2))
    expect(created.slice(1).sort()).toEqual([2, 3, 4, 5])
    segments.destroy()
  })

  it('waits for the shown segments without a location', async () => {
    const liveDoc = new Y.Doc()
    liveDoc.getMap(SEGMENTS_ROOT).set(OPEN_SEGMENT_KEY, 6)
    const { segments, created } = history(unit(0, liveDoc))
    segments.update()

    void segments.findEarlier('old-message' as MessageId)
    // Segment 6 has not synced, so the search cannot tell yet whether it contains the message.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(created).toEqual([6])
    segments.destroy()
  })
})

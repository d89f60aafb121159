import { openSegment } from '../../../shared/chat-document.ts'
import type { MessageId } from '../../../shared/ids.ts'
import type { HistoryView } from './conversation-snapshot.ts'
import type { DocumentSync } from './document-sync.ts'
import type { LocalCopyBudget } from './local-copy-budget.ts'
import type { ShownRange } from './segment-plan.ts'
import {
  firstShownSegment,
  PAGE_MESSAGES,
  rangeAfterOpenMoved,
  segmentsOf,
} from './segment-plan.ts'
import type { UnsyncedSegments } from './unsynced-segments.ts'

// Time in milliseconds that the first page waits for the open segment's first sync before
// it is planned from the local copy alone.
const PLAN_WAIT_MS = 3_000

export interface SegmentHistoryOptions {
  /** The live document, which contains segment 0 and the number of the open segment. */
  live: DocumentSync
  budget: LocalCopyBudget
  unsynced: UnsyncedSegments
  /** Creates the DocumentSync of a history segment from 1 on. */
  createUnit: (segment: number) => DocumentSync
  /**
   * Returns the segment that contains a message as the server indexed it, or undefined when
   * it cannot tell, such as offline.
   */
  locate: (messageId: MessageId) => Promise<number | undefined>
  onChange: () => void
}

/**
 * The history segments of one conversation that this device keeps in memory: the range
 * shown, from the oldest segment scrolled back to up to the open segment, and segments
 * outside it that still have changes to send. Every other segment stays as bytes in its
 * IndexedDB database, within the local copy budget.
 */
export class SegmentHistory {
  private range: ShownRange | undefined
  // Oldest segment of the first page. Scrolling releases only the segments older than it.
  private baseFirst = 0
  private planned = false
  private planWaited = false
  private planTimer: ReturnType<typeof setTimeout> | undefined
  private cleanupScheduled = false
  private searching = false
  private destroyed = false
  // Open segment that the conversation list reported, which can be ahead of the live document.
  private listedOpen = 0
  private readonly units = new Map<number, DocumentSync>()
  private readonly waiters = new Set<() => void>()

  constructor(private readonly options: SegmentHistoryOptions) {}

  /** The DocumentSync that takes new messages, or undefined until the live one has loaded. */
  get openUnit(): DocumentSync | undefined {
    return this.range ? this.unit(this.range.open) : undefined
  }

  /** Returns the documents shown, oldest first. */
  shownUnits(): DocumentSync[] {
    if (!this.range) return []
    return segmentsOf(this.range).flatMap((segment) => this.unit(segment) ?? [])
  }

  /** Returns every document held in memory: the live one, shown segments and background ones. */
  allUnits(): DocumentSync[] {
    return [this.options.live, ...this.units.values()]
  }

  /** Returns the document in memory that contains a message, searching the newest first. */
  unitHolding(messageId: MessageId): DocumentSync | undefined {
    const shown = this.shownUnits().reverse()
    const background = [...this.units].flatMap(([segment, unit]) =>
      this.isShown(segment) ? [] : [unit],
    )
    return [...shown, ...background].find((unit) => unit.hasMessage(messageId))
  }

  view(): HistoryView {
    if (!this.range) {
      return {
        firstSegment: 0,
        openSegment: 0,
        ready: false,
        loadingOlder: false,
        searching: false,
      }
    }
    const { first, open } = this.range
    const oldest = this.unit(first)
    return {
      firstSegment: first,
      openSegment: open,
      ready: this.planned,
      loadingOlder: first < open && oldest !== undefined && !hasContent(oldest),
      searching: this.searching,
    }
  }

  /**
   * Follows the live document and the open segment: starts the range once the live document
   * has loaded, moves it when the server opens a new segment, and decides once whether the
   * first page needs the segment before the open one. Runs on every change.
   */
  update(): void {
    const { live } = this.options
    if (this.destroyed || !live.isLoaded) return
    // The server only ever moves the open segment forward. A lower number comes from a live
    // document that was just dropped and has not synced again yet.
    const open = Math.max(openSegment(live.document), this.range?.open ?? 0, this.listedOpen)

    if (!this.range) {
      this.range = { first: open, open }
      this.baseFirst = open
      this.openBackgroundUnits()
    } else if (open !== this.range.open) {
      this.moveOpen(open)
    }
    this.planFirstPage()
    this.ensureShownUnits()
    this.scheduleCleanup()
    for (const waiter of [...this.waiters]) waiter()
  }

  /**
   * Takes the open segment from the conversation list, so that a device without a copy of the
   * live document opens the open segment while the live document still syncs.
   */
  learnOpenSegment(open: number): void {
    if (open <= this.listedOpen) return
    this.listedOpen = open
    this.update()
  }

  /** Starts loading the segment before the oldest one shown, or returns false if there is none. */
  loadOlder(): boolean {
    const view = this.view()
    if (!this.range || !view.ready || view.loadingOlder || this.range.first === 0) return false
    this.range = { ...this.range, first: this.range.first - 1 }
    this.ensureShownUnits()
    this.options.onChange()
    return true
  }

  /**
   * Stops showing the oldest segment once it has scrolled far out of view. Segments of the
   * first page stay. Returns whether a segment was released.
   */
  releaseOldest(): boolean {
    if (!this.range || this.searching || this.view().loadingOlder) return false
    if (this.range.first >= this.baseFirst) return false
    const released = this.range.first
    this.range = { ...this.range, first: released + 1 }
    this.closeIfUnused(released)
    this.options.onChange()
    return true
  }

  /** Releases every segment older than the first page, when the conversation leaves the screen. */
  releaseToFirstPage(): void {
    if (!this.range || this.range.first >= this.baseFirst) return
    const released = segmentsOf({ first: this.range.first, open: this.baseFirst - 1 })
    this.range = { ...this.range, first: this.baseFirst }
    for (const segment of released) this.closeIfUnused(segment)
    this.options.onChange()
  }

  /**
   * Shows older segments until one contains the message, for a reply whose original is not
   * shown. The segment that the server names for the message is shown at once, with every
   * segment after it. Without one, or when it lacks the message, older segments load one by
   * one. Resolves to whether the message was found.
   */
  async findEarlier(messageId: MessageId): Promise<boolean> {
    this.searching = true
    this.options.onChange()
    try {
      const located = await this.options.locate(messageId)
      if (located !== undefined && this.range && !this.destroyed && located < this.range.first) {
        this.range = { ...this.range, first: located }
        this.ensureShownUnits()
        this.options.onChange()
      }
      for (;;) {
        await this.until(() => this.view().ready && !this.view().loadingOlder)
        if (this.destroyed || !this.range) return false
        if (this.shownUnits().some((unit) => unit.hasMessage(messageId))) return true
        if (this.range.first === 0) return false
        this.range = { ...this.range, first: this.range.first - 1 }
        this.ensureShownUnits()
        this.options.onChange()
      }
    } finally {
      this.searching = false
      if (!this.destroyed) this.options.onChange()
    }
  }

  /** Records that a segment has changes the server has not stored yet. */
  noteLocalWrite(segment: number): void {
    this.options.unsynced.add(segment)
  }

  /** Records that the server stored every change of a segment, and closes it if unused. */
  noteSettled(segment: number): void {
    this.options.unsynced.remove(segment)
    this.scheduleCleanup()
  }

  destroy(): void {
    this.destroyed = true
    clearTimeout(this.planTimer)
    for (const segment of [...this.units.keys()]) this.close(segment)
    for (const waiter of [...this.waiters]) waiter()
    this.waiters.clear()
  }

  private unit(segment: number): DocumentSync | undefined {
    return segment === 0 ? this.options.live : this.units.get(segment)
  }

  private isShown(segment: number): boolean {
    return this.range !== undefined && segment >= this.range.first && segment <= this.range.open
  }

  private moveOpen(open: number): void {
    if (!this.range) return
    const before = this.range
    this.range = rangeAfterOpenMoved(before, open)
    // After a jump over several segments the first page is planned again.
    if (open !== before.open + 1) {
      this.planned = false
      this.planWaited = false
      clearTimeout(this.planTimer)
      this.planTimer = undefined
    }
    // After a step of one the first page keeps its segments. After a jump it starts again at
    // the new open segment.
    this.baseFirst = Math.max(this.range.first, this.baseFirst)
    for (const segment of segmentsOf(before)) {
      if (!this.isShown(segment)) this.closeIfUnused(segment)
    }
  }

  // A local copy with a full page decides at once. A shorter one may only lack what the
  // server has, so the decision waits for the first sync, at most PLAN_WAIT_MS (offline).
  private planFirstPage(): void {
    const openUnit = this.openUnit
    if (this.planned || !this.range || !openUnit?.isLoaded) return
    const full = openUnit.messageCount() >= PAGE_MESSAGES
    const settled = openUnit.hasSynced || openUnit.syncProblem !== null || this.planWaited
    if (!full && !settled) {
      this.planTimer ??= setTimeout(() => {
        this.planWaited = true
        this.update()
        this.options.onChange()
      }, PLAN_WAIT_MS)
      return
    }

    this.planned = true
    const first = firstShownSegment(this.range.open, openUnit.messageCount())
    if (first < this.range.first) {
      this.range = { ...this.range, first }
      this.baseFirst = first
    }
  }

  private ensureShownUnits(): void {
    if (!this.range) return
    for (const segment of segmentsOf(this.range)) this.openUnitOf(segment)
  }

  // Segments with changes that were not sent before the last reload sync in the background,
  // so that those changes reach the server even if the user never scrolls back to them.
  private openBackgroundUnits(): void {
    for (const segment of this.options.unsynced.list()) {
      if (this.range && segment <= this.range.open) this.openUnitOf(segment)
      else this.options.unsynced.remove(segment)
    }
  }

  private openUnitOf(segment: number): void {
    if (segment === 0 || this.units.has(segment)) return
    const unit = this.options.createUnit(segment)
    this.units.set(segment, unit)
    this.options.budget.open(unit.documentName)
  }

  // Closing runs in a microtask, because destroying a document inside an event handler of
  // its own provider would leave that provider half torn down.
  private scheduleCleanup(): void {
    if (this.cleanupScheduled) return
    this.cleanupScheduled = true
    queueMicrotask(() => {
      this.cleanupScheduled = false
      if (this.destroyed) return
      for (const segment of [...this.units.keys()]) this.closeIfUnused(segment)
    })
  }

  // A segment with unsent changes stays open in the background until the server has them.
  private closeIfUnused(segment: number): void {
    if (!this.units.has(segment) || this.isShown(segment) || this.needsSync(segment)) return
    this.close(segment)
  }

  // The list of unsynced segments also covers changes made before a reload, which a newly
  // loaded DocumentSync cannot tell apart from what the server has.
  private needsSync(segment: number): boolean {
    const unit = this.units.get(segment)
    return this.options.unsynced.has(segment) || unit?.hasUnsyncedWork === true
  }

  private close(segment: number): void {
    const unit = this.units.get(segment)
    if (!unit) return
    this.units.delete(segment)
    const { budget } = this.options
    // A segment closed before its local copy loaded keeps whatever the budget knew of it.
    if (unit.isLoaded) {
      budget.close(unit.documentName, unit.encodedSize(), { unsynced: this.needsSync(segment) })
    } else {
      budget.release(unit.documentName)
    }
    unit.destroy()
  }

  private until(condition: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.destroyed && !condition()) return
        this.waiters.delete(check)
        resolve()
      }
      this.waiters.add(check)
      check()
    })
  }
}

// A segment counts as loaded once it shows messages: from its local copy, or from the server.
function hasContent(unit: DocumentSync): boolean {
  if (!unit.isLoaded) return false
  return unit.hasSynced || unit.messageCount() > 0 || unit.syncProblem !== null
}

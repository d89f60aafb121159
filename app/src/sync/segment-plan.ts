/**
 * Messages in the first page of a conversation. When the open segment contains fewer, the
 * segment before it is shown too, so that a segment closed a moment ago leaves no
 * almost-empty screen.
 */
export const PAGE_MESSAGES = 50

/** Range of history segments shown, from `first` up to the open segment, both included. */
export interface ShownRange {
  first: number
  open: number
}

/** Returns the oldest segment to show when a conversation opens. */
export function firstShownSegment(open: number, openMessageCount: number): number {
  return open > 0 && openMessageCount < PAGE_MESSAGES ? open - 1 : open
}

/**
 * Returns the range to show once the server moves the open segment from `shown.open` to
 * `open`. The next segment joins the range, so that what is on screen stays. A jump over
 * several segments (after a long time offline) starts again from the new open segment,
 * because opening every segment in between could load thousands of messages.
 */
export function rangeAfterOpenMoved(shown: ShownRange, open: number): ShownRange {
  if (open === shown.open) return shown
  if (open === shown.open + 1) return { first: shown.first, open }
  return { first: open, open }
}

/** Returns the segments of a range, oldest first. */
export function segmentsOf(range: ShownRange): number[] {
  const segments: number[] = []
  for (let segment = range.first; segment <= range.open; segment++) segments.push(segment)
  return segments
}

/** Distance in pixels from the top of the message list within which older segments load. */
export const LOAD_OLDER_WITHIN_PX = 400

/** Scroll metrics of the message list, in pixels, as the DOM reports them. */
export interface ScrollMetrics {
  scrollTop: number
  scrollHeight: number
  clientHeight: number
}

/** The message the reader is looking at, and its top relative to the list's viewport. */
export interface ScrollAnchor {
  messageId: string
  top: number
}

/**
 * Returns the index of the first row that reaches into the viewport: the first whose bottom,
 * relative to the viewport's top, is below 0. Rows are in document order, so their bottoms
 * grow with the index and a binary search measures only about log2(count) of them. Returns
 * -1 when every row is above the viewport.
 */
export function firstVisibleRow(count: number, bottomOf: (index: number) => number): number {
  let low = 0
  let high = count
  while (low < high) {
    const middle = (low + high) >>> 1
    if (bottomOf(middle) > 0) high = middle
    else low = middle + 1
  }
  return low < count ? low : -1
}

/** Returns the scroll position that puts the anchor back at the top it had before a change. */
export function anchoredScrollTop(scrollTop: number, anchor: ScrollAnchor, currentTop: number) {
  return scrollTop + (currentTop - anchor.top)
}

/**
 * Returns whether to load the segment before the oldest one shown: when the reader is near
 * the top, or when the messages do not fill the list, which then cannot scroll at all.
 */
export function shouldLoadOlder(metrics: ScrollMetrics): boolean {
  if (metrics.scrollHeight <= metrics.clientHeight) return true
  return metrics.scrollTop < LOAD_OLDER_WITHIN_PX
}

/**
 * Returns how far above the viewport, in pixels, the oldest segment's last message must be
 * before that segment is released: two viewport heights, at least twice the loading distance.
 * What stays above then keeps the reader out of the loading zone, so nothing reloads at once.
 */
export function releaseDistance(clientHeight: number): number {
  return Math.max(2 * clientHeight, 2 * LOAD_OLDER_WITHIN_PX)
}

/**
 * Returns whether the oldest segment shown has scrolled out of use. `oldestBottom` is the
 * bottom of its last message relative to the viewport's top.
 */
export function shouldReleaseOldest(oldestBottom: number, clientHeight: number): boolean {
  return oldestBottom < -releaseDistance(clientHeight)
}

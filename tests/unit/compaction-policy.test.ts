import { describe, expect, it } from 'vitest'
import {
  COMPACT_AFTER_ROWS,
  COMPACT_LOG_TO_SNAPSHOT,
  COMPACT_MIN_LOG_BYTES,
  compactionDue,
} from '../../sync-server/sync/compactor.ts'

describe('compactionDue', () => {
  it('waits for the minimum log size', () => {
    expect(compactionDue(10, COMPACT_MIN_LOG_BYTES - 1, 0)).toBe(false)
    expect(compactionDue(10, COMPACT_MIN_LOG_BYTES, 0)).toBe(true)
  })

  it('waits for rows twice the snapshot', () => {
    const snapshot = 4 * COMPACT_MIN_LOG_BYTES
    const due = COMPACT_LOG_TO_SNAPSHOT * snapshot
    expect(COMPACT_LOG_TO_SNAPSHOT).toBe(2)
    expect(compactionDue(10, snapshot, snapshot)).toBe(false)
    expect(compactionDue(10, due - 1, snapshot)).toBe(false)
    expect(compactionDue(10, due, snapshot)).toBe(true)
  })

  it('compacts many small rows', () => {
    expect(compactionDue(COMPACT_AFTER_ROWS - 1, 1000, 10 * COMPACT_MIN_LOG_BYTES)).toBe(false)
    expect(compactionDue(COMPACT_AFTER_ROWS, 1000, 10 * COMPACT_MIN_LOG_BYTES)).toBe(true)
  })
})

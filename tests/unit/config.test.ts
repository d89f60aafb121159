import { describe, expect, it } from 'vitest'
import { DEFAULT_SEGMENT_MESSAGES } from '../../shared/chat-document.ts'
import { readConfig } from '../../sync-server/config.ts'
import { DEFAULT_COMMIT_INTERVAL_MS } from '../../sync-server/sync/update-log.ts'

describe('readConfig SEGMENT_MESSAGES', () => {
  it('defaults to the schema’s segment size', () => {
    expect(readConfig({}).segmentMessages).toBe(DEFAULT_SEGMENT_MESSAGES)
  })

  it('reads a positive integer', () => {
    expect(readConfig({ SEGMENT_MESSAGES: '5' }).segmentMessages).toBe(5)
  })

  it.each(['0', '-3', '1.5', 'ten', ''])('rejects "%s"', (value) => {
    expect(() => readConfig({ SEGMENT_MESSAGES: value })).toThrow(
      `SEGMENT_MESSAGES must be a positive integer, got "${value}"`,
    )
  })
})

describe('readConfig COMMIT_INTERVAL_MS', () => {
  it('defaults to the update log’s interval', () => {
    expect(readConfig({}).commitIntervalMs).toBe(DEFAULT_COMMIT_INTERVAL_MS)
  })

  it.each([
    ['0', 0],
    ['25', 25],
    ['1000', 1000],
  ])('reads "%s"', (value, expected) => {
    expect(readConfig({ COMMIT_INTERVAL_MS: value }).commitIntervalMs).toBe(expected)
  })

  it.each(['-1', '1001', '2.5', 'fast', ''])('rejects "%s"', (value) => {
    expect(() => readConfig({ COMMIT_INTERVAL_MS: value })).toThrow(
      `COMMIT_INTERVAL_MS must be an integer from 0 to 1000, got "${value}"`,
    )
  })
})

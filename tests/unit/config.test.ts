import { describe, expect, it } from 'vitest'
import { DEFAULT_SEGMENT_MESSAGES } from '../../shared/chat-document.ts'
import { readConfig } from '../../sync-server/config.ts'

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

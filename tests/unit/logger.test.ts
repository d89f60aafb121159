import { describe, expect, it } from 'vitest'
import { clientValueForLog, MAX_LOGGED_CHARACTERS } from '../../sync-server/observability/logger.ts'

describe('clientValueForLog', () => {
  it('keeps a short value', () => {
    expect(clientValueForLog('conv:abc')).toBe('conv:abc')
  })

  it('cuts a long value', () => {
    const name = `conv:${'x'.repeat(1_900_000)}`
    const logged = clientValueForLog(name)
    expect(logged.startsWith(name.slice(0, MAX_LOGGED_CHARACTERS))).toBe(true)
    expect(logged.endsWith(`(${name.length} characters)`)).toBe(true)
    expect(logged.length).toBeLessThan(MAX_LOGGED_CHARACTERS + 40)
  })
})

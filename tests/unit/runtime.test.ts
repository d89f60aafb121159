import fs from 'node:fs'
import { describe, expect, it } from 'vitest'

// The project pins Node itself as the `node` package, so npm scripts run on that version.
const manifest = JSON.parse(fs.readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>
}

describe('runtime', () => {
  it('pins Node 24 in package.json', () => {
    expect(manifest.dependencies.node).toMatch(/^\^24\./)
  })

  it('runs on Node 24', () => {
    const version = process.versions.node
    const hint = `expected Node 24 but got ${version}, so run the suite through npx or npm`
    expect(version.split('.')[0], hint).toBe('24')
  })
})

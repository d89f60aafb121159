import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A poll waits for a server or a browser that shares two cores with other test files,
    // so the default of one second is too short under that load.
    expect: { poll: { timeout: 10_000 } },
    // Two cores: more workers only make the servers under test compete for CPU.
    maxWorkers: 2,
    pool: 'forks',
  },
})

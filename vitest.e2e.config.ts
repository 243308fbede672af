import { defineConfig } from 'vitest/config';

// End-to-end tests start several real peer processes (and tests/browser a headless Chromium) each; they run after the unit suite,
// one file at a time, so they do not compete with it for the CPU.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts', 'tests/browser/**/*.browser.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    setupFiles: ['src/util/polyfills.ts'],
  },
});

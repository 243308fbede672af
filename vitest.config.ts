import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Long-running suites (fuzzing, reliability) opt in through their own scripts.
    exclude: ['tests/**/*.long.test.ts', 'tests/e2e/**', 'tests/browser/**/*.browser.test.ts', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['src/util/polyfills.ts'],
  },
});

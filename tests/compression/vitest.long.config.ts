// Runs the long compression suites (fuzzing) that the default configuration excludes.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['tests/compression/*.long.test.ts'],
    testTimeout: 600_000,
    pool: 'forks',
    setupFiles: ['src/util/polyfills.ts'],
  },
});

// The long reliability suite (excluded from the default run): npm run test:reliability.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['tests/reliability/*.long.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One file at a time: the machine's cores go to the processes and nodes under test.
    fileParallelism: false,
    setupFiles: ['src/util/polyfills.ts'],
  },
});

import { defineConfig } from 'vitest/config';

// Interop suite: tests against peers no one here wrote, installed by .ci/run with apt-get.
export default defineConfig({
  test: {
    include: ['src/**/*.interop.test.ts', 'drivers/**/*.interop.test.ts', 'test/**/*.interop.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});

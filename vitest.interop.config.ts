import { defineConfig } from 'vitest/config';

// Interop suite: tests against peers no one here wrote, installed by .ci/run with apt-get.
export default defineConfig({
  test: {
    include: ['src/**/*.interop.test.ts', 'drivers/**/*.interop.test.ts', 'test/**/*.interop.test.ts'],
    // The package tests need the .deb files built first: vitest.package.config.ts runs them.
    exclude: ['test/package/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});

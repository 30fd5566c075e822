import { defineConfig } from 'vitest/config';

// Package tests (test/package): the .deb files from `npm run package` in a clean Debian root
// (amd64) and under qemu-aarch64-static (arm64). Run by .ci/run after the interop suite.
export default defineConfig({
  test: {
    include: ['test/package/**/*.interop.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 20 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});

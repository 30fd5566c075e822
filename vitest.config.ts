import { defineConfig } from 'vitest/config';

// The default suite: everything that runs on a fresh machine after `npm ci`, loopback only.
// Interop tests (Debian's mosquitto, pymodbus, socat) are `*.interop.test.ts` and run from
// vitest.interop.config.ts after .ci/run has installed their peers.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'drivers/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/*.interop.test.ts', '**/node_modules/**', 'dist/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});

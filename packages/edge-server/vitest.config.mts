import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: '@edgecam/edge-server',
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    // Most tests wait on sockets and timers, not the CPU: running three files at a time keeps
    // the suite well under a minute on a 2-core machine (one at a time takes about 50 s).
    maxWorkers: 3,
    reporters: process.env.EDGECAM_VITEST_JSON
      ? ['default', ['json', { outputFile: process.env.EDGECAM_VITEST_JSON + '/edge-server.json' }]]
      : ['default'],
  },
});

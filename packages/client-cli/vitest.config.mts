import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: '@edgecam/client-cli',
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    // The tests mostly wait on sockets, child processes and ffmpeg, not on the CPU: a few files at
    // once keep the suite short even on a 2-core machine (vitest would otherwise run one at a time).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.EDGECAM_VITEST_JSON
      ? ['default', ['json', { outputFile: process.env.EDGECAM_VITEST_JSON + '/client-cli.json' }]]
      : ['default'],
  },
});

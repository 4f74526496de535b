import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: '@edgecam/client-cli',
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.EDGECAM_VITEST_JSON
      ? ['default', ['json', { outputFile: process.env.EDGECAM_VITEST_JSON + '/client-cli.json' }]]
      : ['default'],
  },
});

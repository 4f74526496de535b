import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: '@edgecam/discovery',
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    reporters: process.env.EDGECAM_VITEST_JSON
      ? ['default', ['json', { outputFile: process.env.EDGECAM_VITEST_JSON + '/discovery.json' }]]
      : ['default'],
  },
});

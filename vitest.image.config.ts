import { defineConfig } from 'vitest/config';

// The container image's own checks (test/image): run by `npm run test:image` after
// `npm run build:image`, not by `npm test`.
export default defineConfig({
  test: {
    include: ['test/image/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});

import { defineConfig } from 'vitest/config';

// The release archives' own checks (test/binary): run by `npm run test:binaries` after
// `npm run build:binaries`, not by `npm test`, which proves the npm form.
export default defineConfig({
  test: {
    include: ['test/binary/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

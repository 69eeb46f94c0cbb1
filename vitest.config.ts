import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The release archives and the image are checked by `npm run test:binaries` and
    // `npm run test:image` after their builds (vitest.binaries.config.ts, vitest.image.config.ts).
    exclude: ['test/binary/**', 'test/image/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

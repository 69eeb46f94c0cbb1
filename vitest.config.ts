import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The release archives and the image are checked by `npm run test:binaries` and
    // `npm run test:image` after their builds (vitest.binaries.config.ts, vitest.image.config.ts).
    exclude: ['test/binary/**', 'test/image/**', '**/node_modules/**'],
    // Upper bounds against a hang, not measures: on a busy 2-core machine a test that starts dozens
    // of processes (the AWS CLI, the helper) takes several times as long as on an idle one.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});

// Bundles the CLI into ESM chunks so that start-up reads a few small files; the AWS SDK, the proxy
// agents and the lock library (src/platform/lock.ts) stay in separate chunks that are loaded only
// when they are needed.
// bench/RESULTS.md has the figures these choices were measured with.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  // Prefer the ESM builds of the AWS SDK: they tree-shake and import cleanly across chunks.
  mainFields: ['module', 'main'],
  banner: {
    // Bundled CommonJS dependencies call require(); give them one.
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // Less source for V8 to scan on every start (mostly the SDK's comments, on an STS call).
  // Identifiers keep their names, so stack traces (--debug) still name the functions.
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
};
// Two builds, so that the CLI's start-up path is not cut into chunks shared with the library.
await build({ ...common, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' });
await build({ ...common, entryPoints: { index: 'src/index.ts' }, outdir: 'dist/lib' });

// Bundles the CLI into one ESM file so that start-up reads one file; the AWS SDK stays in
// separate chunks that are loaded only when an STS call is really needed.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  outdir: 'dist',
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
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
});

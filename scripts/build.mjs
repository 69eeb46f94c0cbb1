// Builds the npm form:
// - dist/main.cjs: the CLI, one CommonJS file with what a cache hit needs. What only a miss needs
//   of our own code is in the same file behind esbuild's lazy initializers (each `import()`), so it
//   is parsed, from V8's compile cache, but never run on a hit.
// - dist/vendor/*.cjs: the AWS SDK, the proxy agents and the lock library, one file each, loaded by
//   the first `import()` that needs them; a hit never reads them.
// - dist/cli.cjs: the bin, a stub that turns on the compile cache before it loads main.cjs.
// - dist/lib/index.js: the library, ESM.
// The standalone binaries are compiled from the same src/cli/main.ts (scripts/build-binaries.mjs).
// bench/RESULTS.md has the figures these choices were measured with.
import { chmod, rm, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { CLI_BUNDLE, LAZY_PACKAGES, SEPARATE_COMMANDS } from './bundle-options.mjs';

// dist/release (the standalone binaries) is not ours to remove.
for (const output of [
  'dist/cli.cjs',
  'dist/main.cjs',
  'dist/main.cjs.LEGAL.txt',
  'dist/vendor',
  'dist/commands',
  'dist/lib',
  'dist/types',
]) {
  await rm(output, { recursive: true, force: true });
}

const vendorFile = (name) => `vendor/${name.replaceAll('/', '-')}.cjs`;
/** `dist` for main.cjs, `..` for a file in dist/commands/. */
const lazyPackages = (toDist) => ({
  name: 'lazy-packages',
  setup(pluginBuild) {
    const filter = new RegExp(`^(${LAZY_PACKAGES.map((name) => name.replace(/[/.]/g, '\\$&')).join('|')})$`);
    pluginBuild.onResolve({ filter }, (args) => ({
      path: `${toDist}/${vendorFile(args.path)}`,
      external: true,
    }));
  },
});
const separateCommands = {
  name: 'separate-commands',
  setup(pluginBuild) {
    const filter = new RegExp(`^\\./commands/(${SEPARATE_COMMANDS.join('|')})\\.js$`);
    pluginBuild.onResolve({ filter }, (args) => ({
      path: args.path.replace(/\.js$/, '.cjs'),
      external: true,
    }));
  },
};
await build({ ...CLI_BUNDLE, outfile: 'dist/main.cjs', plugins: [lazyPackages('.'), separateCommands] });
for (const name of SEPARATE_COMMANDS) {
  await build({
    ...CLI_BUNDLE,
    entryPoints: [`src/cli/commands/${name}.ts`],
    outfile: `dist/commands/${name}.cjs`,
    plugins: [lazyPackages('..')],
  });
}
for (const name of LAZY_PACKAGES) {
  await build({
    ...CLI_BUNDLE,
    entryPoints: [name],
    outfile: `dist/${vendorFile(name)}`,
    // Prefer the ESM builds of the AWS SDK: they tree-shake better.
    mainFields: ['module', 'main'],
  });
}

// module.enableCompileCache exists from Node.js 22.1. The cache goes into our own package
// (dist/cli.cjs → <package>/node_modules/.cache/…), writable only by those who could change this
// code anyway; Node's default, a directory in the shared temp directory, can be created first by
// another user, and compiled code read from there would run as ours. Where the package is
// read-only the call fails quietly and nothing is cached. NODE_COMPILE_CACHE and
// NODE_DISABLE_COMPILE_CACHE keep the meaning Node.js gives them.
const stub = `#!/usr/bin/env node
'use strict';
const { enableCompileCache } = require('node:module');
if (enableCompileCache) enableCompileCache(require('node:path').join(__dirname, '..', 'node_modules', '.cache', 'gitlab-aws-credential-helper'));
require('./main.cjs');
`;
await writeFile('dist/cli.cjs', stub);
await chmod('dist/cli.cjs', 0o755);

await build({
  entryPoints: { index: 'src/index.ts' },
  outdir: 'dist/lib',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'bundle',
  mainFields: ['module', 'main'],
  banner: {
    // Bundled CommonJS dependencies call require(); give them one.
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
});

// What the npm form's build (scripts/build.mjs) and the standalone binaries' build
// (scripts/build-binaries.mjs) share: both bundle the one CLI entry the same way.

export const CLI_BUNDLE = {
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  packages: 'bundle',
  // Less source for V8 to scan (mostly the SDK's comments). Identifiers keep their names, so stack
  // traces (--debug) still name the functions.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  logLevel: 'warning',
};

/** Packages only an STS exchange, a file lock or `doctor` (yaml) needs: never loaded when the cache answers. */
export const LAZY_PACKAGES = ['@aws-sdk/client-sts', 'hpagent', 'proper-lockfile', 'yaml'];

/**
 * Commands rarely run, each bundled into a file of its own (dist/commands/<name>.cjs) that only
 * choosing it loads: their code would otherwise sit in main.cjs and cost every `process` start.
 */
export const SEPARATE_COMMANDS = ['doctor', 'role-template'];

#!/usr/bin/env node
/**
 * The executable. `process` runs before every AWS call, so this file does one thing before loading
 * the rest: it lets Node.js keep V8's compiled code of the bundle between runs.
 */
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// module.enableCompileCache exists from Node.js 22.1 (the types are those of Node.js 20). The cache
// goes into our own package (dist/cli.js → <package>/node_modules/.cache/…), writable only by those
// who could change this code anyway; Node's default, a directory in the shared temp directory, can
// be created first by another user, and compiled code read from there would run as ours. Where the
// package is read-only the call fails quietly and nothing is cached. NODE_COMPILE_CACHE and
// NODE_DISABLE_COMPILE_CACHE keep the meaning Node.js gives them.
const { enableCompileCache } = module as { enableCompileCache?: (directory: string) => unknown };
enableCompileCache?.(
  fileURLToPath(new URL('../node_modules/.cache/gitlab-aws-credential-helper/', import.meta.url)),
);

const { runCli } = await import('./program.js');
// A snapshot: what the process itself sets later (the SDK's own switches) must not reach `env --`.
const code = await runCli(
  process.argv.slice(2),
  { ...process.env },
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
);
process.exitCode = code;

// `npm run build:binaries`: the standalone executables and their release archives.
//
// The CLI entry (src/cli/main.ts) is bundled by esbuild exactly as for the npm form, but with every
// dependency inside, then compiled by Bun (the `bun` development dependency, pinned) to bytecode
// in one executable per target; Bun fetches the other targets' runtimes from the npm registry.
// Each archive dist/release/gitlab-aws-credential-helper_<version>_linux_<arch>[_musl].tar.gz holds
// the executable (0755), LICENSE and README.md; SHA256SUMS lists them for `sha256sum -c`.
// Archives are reproducible: fixed order, modes, owners and mtimes (SOURCE_DATE_EPOCH, else the
// commit's time), and a gzip header without a time stamp.
//
// BINARY_TARGETS=linux-x64 builds only the named targets (comma-separated). Names, targets and the
// places a release goes to are stated once, in scripts/release.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { create as createTar } from 'tar';
import { CLI_BUNDLE } from './bundle-options.mjs';
import release from './release.json' with { type: 'json' };

/** Program name and targets (our name → Bun's compile target and the archive's suffix). */
const { program: PROGRAM, targets: TARGETS } = release;

const RELEASE = 'dist/release';
const WORK = join(RELEASE, 'build');

/** The Bun of the `bun` development dependency: its bin link, else the platform package's file. */
function findBun() {
  const candidates = [
    'node_modules/.bin/bun',
    'node_modules/bun/bin/bun.exe',
    `node_modules/@oven/bun-${platform()}-${arch() === 'arm64' ? 'aarch64' : arch()}/bin/bun`,
  ];
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(
    'no runnable Bun in node_modules: run `npm ci` (the `bun` development dependency brings it for this platform)',
  );
}

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH !== undefined) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

const { version } = JSON.parse(await readFile('package.json', 'utf8'));
const wanted = (process.env.BINARY_TARGETS ?? Object.keys(TARGETS).join(','))
  .split(',')
  .filter((name) => name !== '');
for (const name of wanted) {
  if (!(name in TARGETS))
    throw new Error(`BINARY_TARGETS: unknown target ${name}; known: ${Object.keys(TARGETS).join(', ')}`);
}

await rm(RELEASE, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });
const bundle = join(WORK, 'main.cjs');
await build({
  ...CLI_BUNDLE,
  outfile: bundle,
  mainFields: ['module', 'main'],
  // The dependencies' licence comments stay inside the executable.
  legalComments: 'eof',
});

const bun = findBun();
const mtime = new Date(sourceDateEpoch() * 1000);
const sums = [];
for (const name of wanted) {
  const target = TARGETS[name];
  const stage = join(WORK, name);
  await mkdir(stage, { recursive: true });
  const executable = join(stage, PROGRAM);
  // --bytecode needs a CommonJS entry without top-level await, which main.ts is. By default a Bun
  // executable reads .env and bunfig.toml from the working directory (a job's checkout, which
  // anyone who can push to the project controls): a .env could point STS at another host, a
  // bunfig.toml preload could run code. The helper reads only its flags and the job's variables.
  execFileSync(
    bun,
    [
      'build',
      '--compile',
      '--bytecode',
      '--format=cjs',
      '--no-compile-autoload-dotenv',
      '--no-compile-autoload-bunfig',
      '--no-compile-autoload-tsconfig',
      '--no-compile-autoload-package-json',
      `--target=${target.bun}`,
      bundle,
      '--outfile',
      executable,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await copyFile('LICENSE', join(stage, 'LICENSE'));
  await copyFile('README.md', join(stage, 'README.md'));
  const files = [PROGRAM, 'LICENSE', 'README.md'];
  for (const file of files) {
    await chmod(join(stage, file), file === PROGRAM ? 0o755 : 0o644);
    await utimes(join(stage, file), mtime, mtime);
  }
  const archiveName = `${PROGRAM}_${version}_${target.archive}.tar.gz`;
  await createTar(
    { gzip: { level: 9 }, portable: true, mtime, cwd: stage, file: join(RELEASE, archiveName) },
    files,
  );
  const digest = createHash('sha256')
    .update(await readFile(join(RELEASE, archiveName)))
    .digest('hex');
  sums.push(`${digest}  ${archiveName}\n`);
  console.log(`${archiveName}  ${digest}`);
}
await writeFile(join(RELEASE, 'SHA256SUMS'), sums.join(''));

// `npm run build:image`: the container image, built from the Dockerfile with buildah, offline.
//
// scripts/image-rootfs.sh lays out the Dockerfile's rootfs stage here, from the linux_amd64 release
// archive of `npm run build:binaries` (built first when it is missing), and buildah takes that directory as the named build context
// `rootfs`, so the stage that needs Debian's image does not run. buildah works in a storage of its
// own (vfs, no mounts, removed afterwards) and writes the image as an OCI archive,
// dist/release/gitlab-aws-credential-helper_<version>_linux_amd64-image.oci.tar. Creation time and
// file times come from SOURCE_DATE_EPOCH, else the commit's time, so the same commit gives the same
// image.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import release from './release.json' with { type: 'json' };

const RELEASE = 'dist/release';
const WORK = join(RELEASE, 'build', 'image');

function git(args) {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const { version } = JSON.parse(await readFile('package.json', 'utf8'));
const archiveSuffix = release.targets[release.imageTarget].archive;
const archive = join(RELEASE, `${release.program}_${version}_${archiveSuffix}.tar.gz`);
const output = join(RELEASE, `${release.program}_${version}_${archiveSuffix}-image.oci.tar`);
if (!existsSync(archive)) {
  // A clean clone: build the one archive the image takes (build:binaries builds all four).
  console.log(`${archive} is missing: building it with BINARY_TARGETS=${release.imageTarget}`);
  execFileSync(process.execPath, ['scripts/build-binaries.mjs'], {
    stdio: 'inherit',
    env: { ...process.env, BINARY_TARGETS: release.imageTarget },
  });
}
try {
  execFileSync('buildah', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('buildah is not installed: `apt-get install buildah` (Debian, Ubuntu)');
}
const revision = git(['rev-parse', 'HEAD']) ?? process.env.CI_COMMIT_SHA;
if (revision === undefined || revision === '') {
  throw new Error('no commit to label the image with: build in a git checkout or set CI_COMMIT_SHA');
}
const epoch = process.env.SOURCE_DATE_EPOCH ?? git(['log', '-1', '--format=%ct']) ?? '0';

await rm(WORK, { recursive: true, force: true });
await rm(output, { force: true });
await mkdir(WORK, { recursive: true });
// The stage's file system as the Dockerfile's COPY --from sees it: the result in /rootfs.
const stage = join(WORK, 'stage');
execFileSync('sh', ['scripts/image-rootfs.sh', archive, join(stage, 'rootfs')], { stdio: 'inherit' });

const storage = await mkdtemp(join(tmpdir(), 'gach-buildah-'));
const buildah = (args) =>
  execFileSync(
    'buildah',
    ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs', ...args],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
const tag = `localhost/${release.program}:${version}`;
try {
  buildah([
    'build',
    '--isolation',
    'chroot',
    '--pull-never',
    '--timestamp',
    epoch,
    '--build-context',
    `rootfs=${stage}`,
    '--build-arg',
    `VERSION=${version}`,
    '--build-arg',
    `REVISION=${revision}`,
    '--file',
    'Dockerfile',
    '--tag',
    tag,
    '.',
  ]);
  buildah(['push', '--quiet', tag, `oci-archive:${output}:${version}`]);
} finally {
  await rm(storage, { recursive: true, force: true });
}
console.log(output);

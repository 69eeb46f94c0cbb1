/**
 * The credentials file and the `env --filename` file, written by the built CLI: many jobs writing
 * one file at once lose nothing, a writer killed at any moment leaves the old or the new file
 * (never a partial one, never someone else's bytes changed), and a symbolic link planted at either
 * path is refused with both the link and its target left as they were.
 */
import { spawnSync } from 'node:child_process';
import { watch } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBed, type TestBed } from '../../support/bed.js';
import type { IssuedCredentials } from '../../support/sts.js';
import {
  assertBuilt,
  assertInstalled,
  clientTitle,
  createJob,
  type Job,
  realClients,
  run,
  runCli,
  skippedHere,
} from '../harness.js';
import { sleep, startCli } from './support.js';

const BOTOCORE_CREDENTIALS = resolve(import.meta.dirname, '../fixtures/botocore-credentials.py');

/** Someone else's file: comments, two profiles, CRLF line endings, no newline worries. */
const FOREIGN =
  '# written by hand; keep this comment\r\n' +
  '[other]\r\n' +
  'aws_access_key_id = AKIAOTHEROTHEROTHER1\r\n' +
  'aws_secret_access_key = keep-me ; not a comment for botocore\r\n' +
  '\r\n' +
  '; a comment between sections\r\n' +
  '[profile-two]\r\n' +
  'region = eu-west-1\r\n';

/** One of our sections, complete, as the editor appends it to a CRLF file. */
const OUR_SECTION =
  /\r\n\[([a-z]+\d*)\]\r\naws_access_key_id = (ASIA[A-Z0-9]{16})\r\naws_secret_access_key = ([A-Za-z0-9/+]{40})\r\naws_session_token = ([A-Za-z0-9/+=]+)\r\naws_account_id = \d{12}\r\nexpiration = (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\r\n/y;

interface Section {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/**
 * Reads the file as our own strict parser: the foreign bytes first, byte for byte, then nothing but
 * complete sections of ours. Throws on anything else, so a torn write cannot pass.
 */
function parseOurFile(text: string): Map<string, Section> {
  if (!text.startsWith(FOREIGN))
    throw new Error(`foreign content changed:\n${JSON.stringify(text.slice(0, 400))}`);
  const sections = new Map<string, Section>();
  OUR_SECTION.lastIndex = FOREIGN.length;
  while (OUR_SECTION.lastIndex < text.length) {
    const at = OUR_SECTION.lastIndex;
    const match = OUR_SECTION.exec(text);
    if (match === null)
      throw new Error(`not a complete section at byte ${at}: ${JSON.stringify(text.slice(at, at + 200))}`);
    const [, name = '', accessKeyId = '', secretAccessKey = '', sessionToken = ''] = match;
    if (sections.has(name)) throw new Error(`section [${name}] twice`);
    sections.set(name, { accessKeyId, secretAccessKey, sessionToken });
  }
  return sections;
}

function sameCredentials(section: Section | undefined, issued: IssuedCredentials | undefined): boolean {
  return (
    section !== undefined &&
    issued !== undefined &&
    section.accessKeyId === issued.accessKeyId &&
    section.secretAccessKey === issued.secretAccessKey &&
    section.sessionToken === issued.sessionToken
  );
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.tmp') || name.endsWith('.lock'));
}

async function prepareCredentialsFile(job: Job): Promise<void> {
  await mkdir(dirname(job.credentialsFile), { recursive: true, mode: 0o700 });
  await writeFile(job.credentialsFile, FOREIGN, { mode: 0o600 });
}

const CLIENTS = await realClients();

let bed: TestBed;

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
});
afterAll(async () => {
  await bed?.stop();
});

/** What the 50 writers left, for the AWS CLIs to read in tests of their own. */
let written: { text: string; sections: Map<string, Section> } | undefined;

describe('50 jobs writing one credentials file at once', () => {
  it('keeps every profile, each with its own credentials, and every foreign byte', async () => {
    // The harness's generous STS time limit keeps a slow answer on a loaded machine from becoming a
    // retry, which the exact exchange counts below would see.
    const job = await createJob(bed, await bed.mint());
    try {
      await prepareCredentialsFile(job);
      const started = Date.now();
      // Round 1: a session name of its own each, so 50 real exchanges whose credentials can be told apart.
      const round1 = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          runCli(['aws-profile', '--name', `p${i}`, '-n', `sess-${i}`], job.env),
        ),
      );
      const round1Ms = Date.now() - started;
      expect(round1.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
      expect(bed.sts.exchangeCount()).toBe(50);
      // Round 2: the same sessions into new profiles; aws-profile always hands over a new set.
      const started2 = Date.now();
      const round2 = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          runCli(['aws-profile', '--name', `q${i}`, '-n', `sess-${i}`], job.env),
        ),
      );
      const round2Ms = Date.now() - started2;
      expect(round2.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
      expect(bed.sts.exchangeCount()).toBe(100);

      const text = await readFile(job.credentialsFile, 'utf8');
      const sections = parseOurFile(text);
      expect(sections.size).toBe(100);
      for (let i = 0; i < 50; i++) {
        const [first, second] = bed.sts.issued.filter((set) => set.sessionName === `sess-${i}`);
        expect(sameCredentials(sections.get(`p${i}`), first), `p${i}`).toBe(true);
        expect(sameCredentials(sections.get(`q${i}`), second), `q${i}`).toBe(true);
      }
      expect((await stat(job.credentialsFile)).mode & 0o777).toBe(0o600);
      expect(await leftovers(dirname(job.credentialsFile))).toEqual([]);

      // The AWS SDK's own loader reads all of it.
      const { credentialsFile } = await loadSharedConfigFiles({
        filepath: job.credentialsFile,
        configFilepath: join(job.home, 'no-config'),
        ignoreCache: true,
      });
      expect(Object.keys(credentialsFile).sort()).toEqual(
        ['other', 'profile-two', ...[...sections.keys()]].sort(),
      );
      for (const [name, section] of sections) {
        expect(credentialsFile[name]?.aws_access_key_id).toBe(section.accessKeyId);
        expect(credentialsFile[name]?.aws_secret_access_key).toBe(section.secretAccessKey);
        expect(credentialsFile[name]?.aws_session_token).toBe(section.sessionToken);
      }
      expect(credentialsFile.other?.aws_secret_access_key).toBe('keep-me');

      written = { text, sections };
      console.info(
        `50 concurrent aws-profile writers: ${round1Ms} ms with 50 STS exchanges, ${round2Ms} ms from the cache`,
      );
    } finally {
      await job.cleanup();
    }
  }, 300_000);

  // Each AWS CLI on its own: a missing one is a stated skip, or a failure under CI=true.
  for (const client of CLIENTS.filter((c) => c.label !== 'AWS SDK for JavaScript')) {
    it.skipIf(skippedHere(client))(`${clientTitle(client)}: reads every profile they wrote`, async () => {
      assertInstalled(client);
      if (written === undefined) throw new Error('the 50-writer test above did not leave a file');
      const home = await mkdtemp(join(tmpdir(), 'gach-read-'));
      try {
        const file = join(home, 'credentials');
        await writeFile(file, written.text, { mode: 0o600 });
        const [command = ''] = client.whoAmI(bed);
        for (const name of ['other', 'p17', 'q49']) {
          const got = await run(command, ['configure', 'get', 'aws_access_key_id', '--profile', name], {
            PATH: process.env.PATH,
            PYENV_ROOT: process.env.PYENV_ROOT,
            HOME: home,
            AWS_SHARED_CREDENTIALS_FILE: file,
            AWS_CONFIG_FILE: join(home, 'config'),
          });
          const expected =
            name === 'other' ? 'AKIAOTHEROTHEROTHER1' : written.sections.get(name)?.accessKeyId;
          expect(got.stdout.trim(), `${client.label} ${name}: ${got.stderr}`).toBe(expected);
        }
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    });
  }
});

describe('writers killed with SIGKILL', () => {
  const KILLS = 100;

  /** ms from spawn until the credentials file is replaced, and until the process is gone. */
  async function timeOneWrite(job: Job, name: string): Promise<{ renamedAt: number; exitedAt: number }> {
    const dir = dirname(job.credentialsFile);
    let renamedAt = Number.NaN;
    const started = Date.now();
    const watcher = watch(dir, (_event, file) => {
      if (file === 'credentials' && Number.isNaN(renamedAt)) renamedAt = Date.now() - started;
    });
    try {
      const cli = startCli(['aws-profile', '--name', name], job.env);
      const { code } = await cli.exited;
      expect(code, cli.stderr().toString()).toBe(0);
      return { renamedAt, exitedAt: Date.now() - started };
    } finally {
      watcher.close();
    }
  }

  it(`leave the old or the new file ${KILLS} times out of ${KILLS}, and the next writer recovers`, async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      await prepareCredentialsFile(job);
      const dir = dirname(job.credentialsFile);
      const lockDir = `${job.credentialsFile}.lock`;
      // Time a whole run (exchange and write) to aim the kills at the write.
      await timeOneWrite(job, 'warm');
      // New names: rewriting a profile with the same credentials changes nothing and renames nothing.
      const timings = [await timeOneWrite(job, 't1'), await timeOneWrite(job, 't2')];
      const exitMs = Math.max(...timings.map((t) => t.exitedAt));
      const renames = timings.map((t) => t.renamedAt).filter((t) => Number.isFinite(t));
      const renameMs = renames.length === 0 ? exitMs * 0.8 : Math.min(...renames);
      expect(parseOurFile(await readFile(job.credentialsFile, 'utf8')).get('warm')?.accessKeyId).toMatch(
        /^ASIA/,
      );

      /** Where each kill landed, told apart by what the dead writer left behind. */
      const landed = {
        'before the lock': 0,
        'holding the lock, no temporary file yet': 0,
        'temporary file written, not renamed': 0,
        'renamed, lock not yet released': 0,
        'renamed and unlocked, before exit': 0,
        'too late: exited 0': 0,
      };
      let staleLocks = 0;
      let lastLeftLock = -1;
      let recoveredAfterStaleLock = 0;
      let expected = new Set(['warm', 't1', 't2']);
      for (let i = 0; i < KILLS; i++) {
        // Three in four kills aim at the write (around the measured rename); the rest anywhere in the run.
        const aimed = i % 4 !== 3;
        const delay = aimed ? renameMs * (0.55 + 0.6 * Math.random()) : Math.random() * exitMs * 1.1;
        const name = `k${i}`;
        const cli = startCli(['aws-profile', '--name', name], job.env);
        await sleep(delay);
        cli.child.kill('SIGKILL');
        const { code, signal } = await cli.exited;

        const text = await readFile(job.credentialsFile, 'utf8');
        const sections = parseOurFile(text);
        const names = new Set(sections.keys());
        // Old or new: everything written before is still there, and the new profile is complete or absent.
        for (const before of expected) expect(names.has(before), `${name}: lost [${before}]`).toBe(true);
        expect([...names].filter((n) => !expected.has(n) && n !== name)).toEqual([]);
        const issuedKeys = new Set(bed.sts.issued.map((set) => set.accessKeyId));
        for (const section of sections.values()) expect(issuedKeys.has(section.accessKeyId)).toBe(true);
        expect((await stat(job.credentialsFile)).mode & 0o777).toBe(0o600);

        const left = await readdir(dir);
        const lockLeft = left.includes('credentials.lock');
        const tempLeft = left.some((n) => n.endsWith('.tmp'));
        const written = names.has(name);
        if (signal === null) {
          expect(code, cli.stderr().toString()).toBe(0);
          expect(written).toBe(true);
          landed['too late: exited 0']++;
        } else if (written) {
          landed[lockLeft ? 'renamed, lock not yet released' : 'renamed and unlocked, before exit']++;
        } else if (tempLeft) {
          landed['temporary file written, not renamed']++;
        } else {
          landed[lockLeft ? 'holding the lock, no temporary file yet' : 'before the lock']++;
        }
        // This writer got past a lock that the previous, dead one had left.
        if (staleLocks > 0 && written && i > 0 && lastLeftLock === i - 1) recoveredAfterStaleLock++;
        if (lockLeft) {
          staleLocks++;
          lastLeftLock = i;
          // Age the dead writer's lock past its 10 s stale time rather than wait: the next writer takes it over.
          const longAgo = new Date(Date.now() - 60_000);
          await utimes(lockDir, longAgo, longAgo);
        }
        if (written) expected = new Set([...expected, name]);
      }

      // A normal run afterwards succeeds, removes what dead writers left, and keeps every profile.
      const final = await runCli(['aws-profile', '--name', 'final'], job.env);
      expect(final.code, final.stderr).toBe(0);
      const sections = parseOurFile(await readFile(job.credentialsFile, 'utf8'));
      expect(new Set(sections.keys())).toEqual(new Set([...expected, 'final']));
      expect(await leftovers(dir)).toEqual([]);
      const { credentialsFile } = await loadSharedConfigFiles({
        filepath: job.credentialsFile,
        configFilepath: join(job.home, 'no-config'),
        ignoreCache: true,
      });
      expect(Object.keys(credentialsFile)).toHaveLength(sections.size + 2);
      expect(bed.sts.exchangeCount()).toBeGreaterThanOrEqual(1);

      const killed = KILLS - landed['too late: exited 0'];
      console.info(
        `SIGKILL x${KILLS} (rename at ~${renameMs} ms, exit at ~${exitMs} ms): ${JSON.stringify(landed)}; ` +
          `${staleLocks} stale locks left and taken over (${recoveredAfterStaleLock} by the very next writer, ` +
          `which wrote its profile), ${killed} killed mid-run, ${expected.size - 3} of ${KILLS} profiles written, 0 torn files`,
      );
      // The kills must have reached the write itself, not only the start-up.
      const insideTheLock =
        landed['holding the lock, no temporary file yet'] +
        landed['temporary file written, not renamed'] +
        landed['renamed, lock not yet released'];
      expect(insideTheLock).toBeGreaterThan(0);
      expect(landed['before the lock']).toBeGreaterThan(0);
    } finally {
      await job.cleanup();
    }
    // 100 helper processes started and killed: a generous bound for a busy machine.
  }, 900_000);
});

describe('a symbolic link planted at the target', () => {
  async function plant(job: Job, linkPath: string): Promise<{ target: string; before: Buffer }> {
    const target = join(job.home, 'planted-target');
    const before = Buffer.from('# the link target: must stay as it is\n[keep]\nx = 1\n');
    await mkdir(dirname(linkPath), { recursive: true, mode: 0o700 });
    await writeFile(target, before, { mode: 0o644 });
    await symlink(target, linkPath);
    return { target, before };
  }

  async function expectUntouched(linkPath: string, target: string, before: Buffer): Promise<void> {
    expect((await lstat(linkPath)).isSymbolicLink()).toBe(true);
    expect(await readlink(linkPath)).toBe(target);
    expect((await readFile(target)).equals(before)).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o644);
    expect(await leftovers(dirname(linkPath))).toEqual([]);
  }

  it('is refused for the credentials file, with a clear error, link and target untouched', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const { target, before } = await plant(job, job.credentialsFile);
      const result = await runCli(['aws-profile', '--name', 'ci'], job.env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `gitlab-aws-credential-helper: Refusing to write ${job.credentialsFile}: it is a symbolic link to ${target}. ` +
          `Fix: replace the link with a regular file, or point AWS_SHARED_CREDENTIALS_FILE at the real file (${target}).\n`,
      );
      await expectUntouched(job.credentialsFile, target, before);
    } finally {
      await job.cleanup();
    }
  });

  it('is refused for env --filename, also a dangling link, and the target is never created', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const file = join(job.home, 'out', 'aws.env');
      const { target, before } = await plant(job, file);
      const result = await runCli(['env', '--filename', file], job.env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^gitlab-aws-credential-helper: Refusing to write .*aws\.env: it is a symbolic link to .*planted-target\. Fix: .*--filename.*\n$/,
      );
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      await expectUntouched(file, target, before);

      const dangling = join(job.home, 'dangling.env');
      const nowhere = join(job.home, 'would-be-created');
      await symlink(nowhere, dangling);
      const again = await runCli(['env', '--export', '--filename', dangling], job.env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/symbolic link/);
      await expect(lstat(nowhere)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await job.cleanup();
    }
  });

  it('is followed for a linked ~/.aws directory, as documented (a deliberate setup)', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const real = join(job.home, 'real-aws');
      await mkdir(real, { mode: 0o700 });
      await symlink(real, join(job.home, '.aws'));
      const result = await runCli(['aws-profile'], job.env);
      expect(result.code, result.stderr).toBe(0);
      expect(await readFile(join(real, 'credentials'), 'utf8')).toMatch(
        /^\[default\]\naws_access_key_id = ASIA/,
      );
    } finally {
      await job.cleanup();
    }
  });
});

describe('a credentials file bind-mounted over ~/.aws/credentials (docker run -v …)', () => {
  it('is written in place, says so with --debug, and the real file on the host holds the profile', async (context) => {
    const job = await createJob(bed, await bed.mint());
    const hostFile = join(job.home, 'host-credentials');
    let mounted = false;
    try {
      await prepareCredentialsFile(job);
      await writeFile(hostFile, FOREIGN, { mode: 0o600 });
      const mount = spawnSync('mount', ['--bind', hostFile, job.credentialsFile], { encoding: 'utf8' });
      // Not a missing tool: only a machine that forbids mounts (no root, no CAP_SYS_ADMIN) skips.
      if (mount.status !== 0) context.skip(`mount --bind is not allowed here: ${mount.stderr.trim()}`);
      mounted = true;
      const result = await runCli(
        ['aws-profile', '--name', 'mounted', '-n', 'bind-mounted', '--debug'],
        job.env,
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(
        `[debug] ${job.credentialsFile} cannot be replaced by a rename (EBUSY: a bind mount or another file system); writing it in place`,
      );
      const sections = parseOurFile(await readFile(hostFile, 'utf8'));
      const issued = bed.sts.issued.find((set) => set.sessionName === 'bind-mounted');
      expect(sameCredentials(sections.get('mounted'), issued)).toBe(true);
      expect((await stat(hostFile)).mode & 0o777).toBe(0o600);
      expect(await leftovers(dirname(job.credentialsFile))).toEqual([]);
      // The AWS tools read the profile through the mount: botocore (the AWS CLI) and the JS SDK.
      const boto = await run('python3', [BOTOCORE_CREDENTIALS], { ...job.env, AWS_PROFILE: 'mounted' });
      expect(boto.code, boto.stderr).toBe(0);
      expect(JSON.parse(boto.stdout)).toMatchObject({ accessKeyId: issued?.accessKeyId });
      const sdk = await loadSharedConfigFiles({
        filepath: job.credentialsFile,
        configFilepath: job.configFile,
      });
      expect(sdk.credentialsFile.mounted?.aws_access_key_id).toBe(issued?.accessKeyId);
    } finally {
      if (mounted) spawnSync('umount', [job.credentialsFile]);
      await job.cleanup();
    }
  });
});

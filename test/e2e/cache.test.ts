/**
 * The credential cache as users meet it: through the built CLI, the AWS CLI's credential_process
 * calls and concurrent processes, counting the exchanges the local STS really served.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestBed, type TestBed } from '../support/bed.js';
import {
  assertBuilt,
  assertInstalled,
  clientTitle,
  createJob,
  realClients,
  run,
  runCli,
  skippedHere,
} from './harness.js';

const CLIENTS = await realClients();

let bed: TestBed;

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
});
afterAll(async () => {
  await bed?.stop();
});
beforeEach(() => {
  bed.sts.reset();
});

const cacheDir = (home: string) => join(home, '.cache', 'gitlab-aws-credential-helper');

describe('credential cache', () => {
  // Each AWS CLI on its own (a missing one is a stated skip, or a failure under CI=true). The AWS
  // CLI starts in about a second, more on a busy machine: the limit is a generous upper bound.
  for (const client of CLIENTS.filter((c) => c.label !== 'AWS SDK for JavaScript')) {
    it.skipIf(skippedHere(client))(
      `${clientTitle(client)}: serves 20 calls through credential_process with one STS exchange`,
      async () => {
        assertInstalled(client);
        const job = await createJob(bed, await bed.mint());
        try {
          const configured = await client.configureCredentialProcess(job);
          expect(configured.code, configured.stderr).toBe(0);
          const [command = '', ...args] = client.whoAmI(bed);
          const arns = new Set<string>();
          for (let call = 0; call < 20; call++) {
            const result = await run(command, args, job.env);
            expect(result.code, result.stderr).toBe(0);
            arns.add((JSON.parse(result.stdout) as { Arn: string }).Arn);
          }
          expect(arns.size).toBe(1);
          expect(bed.sts.exchangeCount()).toBe(1);
        } finally {
          await job.cleanup();
        }
      },
      300_000,
    );
  }

  it('makes one exchange for 20 concurrent processes on an empty cache', async () => {
    const job = await createJob(bed, await bed.mint());
    bed.sts.setLatency(300);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => runCli(['process'], job.env)));
      for (const result of results) expect(result.code, result.stderr).toBe(0);
      expect(new Set(results.map((result) => result.stdout)).size).toBe(1);
      expect(bed.sts.exchangeCount()).toBe(1);
    } finally {
      bed.sts.setLatency(0);
      await job.cleanup();
    }
  });

  it('keeps entries encrypted, 0600 in a 0700 directory, with no secret in plain text', async () => {
    const token = await bed.mint();
    const job = await createJob(bed, token);
    try {
      const result = await runCli(['process'], job.env);
      const { SecretAccessKey, SessionToken, AccessKeyId } = JSON.parse(result.stdout) as Record<
        string,
        string
      >;
      const dir = cacheDir(job.home);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const files = (await readdir(dir)).filter((name) => name.endsWith('.json'));
      expect(files).toHaveLength(1);
      const [file = ''] = files;
      expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
      const text = await readFile(join(dir, file), 'utf8');
      for (const secret of [token, SecretAccessKey, SessionToken, AccessKeyId])
        expect(text).not.toContain(secret);
    } finally {
      await job.cleanup();
    }
  });

  it('treats a corrupt entry as a miss and replaces it', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      expect((await runCli(['process'], job.env)).code).toBe(0);
      const dir = cacheDir(job.home);
      for (const name of await readdir(dir))
        if (name.endsWith('.json')) await writeFile(join(dir, name), '{"v":1,"da');
      const again = await runCli(['process'], job.env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toBe('');
      expect(bed.sts.exchangeCount()).toBe(2);
      expect((await runCli(['process'], job.env)).code).toBe(0);
      expect(bed.sts.exchangeCount()).toBe(2);
    } finally {
      await job.cleanup();
    }
  });

  it('hands aws-profile and env a new set (never renewed later), which then serves process', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      await runCli(['aws-profile'], job.env);
      const printed = await runCli(['env'], job.env);
      expect(bed.sts.exchangeCount()).toBe(2);
      const processed = await runCli(['process'], job.env);
      expect(bed.sts.exchangeCount()).toBe(2);
      const latestIssued = bed.sts.issued.at(-1);
      expect(JSON.parse(processed.stdout)).toMatchObject({ AccessKeyId: latestIssued?.accessKeyId });
      expect(printed.stdout).toContain(`AWS_ACCESS_KEY_ID=${latestIssued?.accessKeyId}`);
    } finally {
      await job.cleanup();
    }
  });

  it('is keyed by everything that shapes the credentials', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      await runCli(['process'], job.env);
      await runCli(['process'], job.env);
      expect(bed.sts.exchangeCount()).toBe(1);
      await runCli(['process', '-d', '7200'], job.env);
      await runCli(['process', '-n', 'other-session'], job.env);
      expect(bed.sts.exchangeCount()).toBe(3);
      const nextJob = { ...job.env, GITLAB_AWS_IDENTITY_TOKEN: await bed.mint({ job_id: '2' }) };
      await runCli(['process'], nextJob);
      expect(bed.sts.exchangeCount()).toBe(4);
    } finally {
      await job.cleanup();
    }
  });

  it('can be turned off with --no-cache or GITLAB_AWS_CACHE=false, and emptied with cache clear', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      await runCli(['process'], job.env);
      await runCli(['process', '--no-cache'], job.env);
      await runCli(['process'], { ...job.env, GITLAB_AWS_CACHE: 'false' });
      expect(bed.sts.exchangeCount()).toBe(3);
      await runCli(['process'], job.env);
      expect(bed.sts.exchangeCount()).toBe(3);
      const cleared = await runCli(['cache', 'clear'], job.env);
      expect(cleared.code, cleared.stderr).toBe(0);
      expect(cleared.stderr).toMatch(/removed 1 cached credential set/);
      await runCli(['process'], job.env);
      expect(bed.sts.exchangeCount()).toBe(4);
    } finally {
      await job.cleanup();
    }
  });

  // As root, mode bits do not stop writes; a read-only file system does. (test/cache covers other users.)
  it.runIf(process.getuid?.() === 0)('never fails the command when the cache cannot be written', async () => {
    const job = await createJob(bed, await bed.mint());
    const readOnly = join(job.home, 'read-only-cache');
    await mkdir(readOnly);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', readOnly]);
    try {
      const env = { ...job.env, XDG_CACHE_HOME: readOnly };
      for (const run of [1, 2]) {
        const result = await runCli(['process'], env);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr, `run ${run}`).toBe('');
        expect(JSON.parse(result.stdout)).toMatchObject({ Version: 1 });
      }
      expect(bed.sts.exchangeCount()).toBe(2);
    } finally {
      execFileSync('umount', [readOnly]);
      await job.cleanup();
    }
  });

  it('never caches inside the project directory', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const env = { ...job.env, CI_PROJECT_DIR: job.home, XDG_CACHE_HOME: join(job.home, 'cache') };
      const result = await runCli(['process'], env);
      expect(result.code, result.stderr).toBe(0);
      await expect(stat(join(job.home, 'cache'))).rejects.toThrow();
    } finally {
      await job.cleanup();
    }
  });
});

describe('a short STS outage', () => {
  // An STS whose clock lags: it issues one-hour sessions that end LEFT seconds from now, so the
  // cached set is due for a refresh at once (1200 s window) but still valid.
  async function lagging(left: number): Promise<TestBed> {
    return startTestBed({ sts: { now: () => Date.now() - (3600 - left) * 1000, clockSkewSeconds: 7200 } });
  }

  it('keeps serving the cached set with one warning while it outlasts the AWS CLI’s 10-minute margin', async () => {
    const slow = await lagging(900);
    const job = await createJob(slow, await slow.mint(), { AWS_ENDPOINT_URL_STS: slow.sts.url });
    try {
      const first = await runCli(['process'], job.env);
      expect(first.code, first.stderr).toBe(0);
      slow.sts.injectFault({ kind: 'throttle' }, { times: Number.POSITIVE_INFINITY });
      const during = await runCli(['process', '--max-attempts', '2'], job.env);
      expect(during.code, during.stderr).toBe(0);
      expect(JSON.parse(during.stdout)).toEqual(JSON.parse(first.stdout));
      expect(during.stderr).toMatch(
        /^gitlab-aws-credential-helper: warning: STS failed \(Throttling\), so these are the cached credentials, which expire at \S+ \(in 1[45] minutes\)[^\n]*\n$/,
      );
      expect(slow.sts.exchangeCount()).toBe(3);
      // aws-profile and env hand over sets that are never renewed: they still fail.
      expect((await runCli(['env', '--max-attempts', '1'], job.env)).code).toBe(1);
    } finally {
      await job.cleanup();
      await slow.stop();
    }
  });

  it('fails as before once the cached set is inside the margin', async () => {
    const slow = await lagging(500);
    const job = await createJob(slow, await slow.mint(), { AWS_ENDPOINT_URL_STS: slow.sts.url });
    try {
      expect((await runCli(['process'], job.env)).code).toBe(0);
      slow.sts.injectFault({ kind: 'http', status: 503 }, { times: Number.POSITIVE_INFINITY });
      const during = await runCli(['process', '--max-attempts', '1'], job.env);
      expect(during.code).toBe(1);
      expect(during.stdout).toBe('');
      expect(during.stderr).toMatch(/HTTP 503/);
    } finally {
      await job.cleanup();
      await slow.stop();
    }
  });
});

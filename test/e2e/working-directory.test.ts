/**
 * The job's checkout is the helper's working directory, and anyone who can push to the project
 * controls what is in it. Nothing there may change what the helper does: a `.env` (which a Bun
 * executable reads by default) must not redirect the token or pick another role, and a
 * `bunfig.toml` preload must not run.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ROLE_NAME, startTestBed, type TestBed } from '../support/bed.js';
import { assertBuilt, createJob, runCli } from './harness.js';

let bed: TestBed;
beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
});
afterAll(async () => {
  await bed?.stop();
});

describe('files in the working directory', () => {
  it('a .env, .env.local and bunfig.toml change nothing', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const checkout = job.home;
      const dotenv = [
        'AWS_ENDPOINT_URL_STS=http://127.0.0.1:9/',
        'GITLAB_AWS_ROLE_NAME=attacker-role',
        'GITLAB_AWS_IDENTITY_TOKEN=not-the-token',
        '',
      ].join('\n');
      await writeFile(join(checkout, '.env'), dotenv);
      await writeFile(join(checkout, '.env.local'), dotenv);
      await writeFile(
        join(checkout, 'preload.js'),
        "require('node:fs').writeFileSync(__dirname + '/PRELOADED', '')\n",
      );
      await writeFile(
        join(checkout, 'bunfig.toml'),
        'preload = ["./preload.js"]\n[run]\npreload = ["./preload.js"]\n',
      );
      const before = bed.sts.exchangeCount();
      const result = await runCli(['process', '--no-cache'], job.env, { cwd: checkout });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ Version: 1 });
      expect(bed.sts.exchangeCount()).toBe(before + 1);
      const request = bed.sts.requests.at(-1);
      expect(request?.params.RoleArn).toBe(`arn:aws:iam::${bed.accountId}:role/${DEMO_ROLE_NAME}`);
      expect(await readdir(checkout)).not.toContain('PRELOADED');
    } finally {
      await job.cleanup();
    }
  });
});

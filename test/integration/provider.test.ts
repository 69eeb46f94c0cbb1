/**
 * The library's credential provider, imported from the built package as a user imports it, handed to
 * real AWS SDK clients that call the local STS with the credentials it returns.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type * as Library from '../../src/index.js';
import { assertBuilt, createJob, type Job, runCli } from '../e2e/harness.js';
import { startTestBed, type TestBed } from '../support/bed.js';

// The built package's entry, as `import … from 'gitlab-aws-credential-helper'` loads it; typed by the sources.
const LIBRARY = new URL('../../dist/lib/index.js', import.meta.url).href;
const { fromGitLabIdToken, HelperError } = (await import(LIBRARY)) as typeof Library;

let bed: TestBed;
let token: string;
let job: Job;
/** STS's issued sets are kept across tests: each test counts from its own start. */
let issuedBefore = 0;
const issuedHere = () => bed.sts.issued.slice(issuedBefore);

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
  token = await bed.mint();
});
afterAll(async () => {
  await bed?.stop();
});
beforeEach(async () => {
  bed.sts.reset();
  issuedBefore = bed.sts.issued.length;
  job = await createJob(bed, token);
});
afterEach(async () => {
  await job.cleanup();
});

function client(credentials: Library.GitLabIdTokenProvider): STSClient {
  return new STSClient({ region: 'us-east-1', endpoint: bed.sts.url, credentials });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected a rejection');
}

describe('fromGitLabIdToken()', () => {
  it('gives an SDK client the credentials of the default role, which STS then recognises', async () => {
    const warnings: string[] = [];
    const provider = fromGitLabIdToken({ env: job.env, cache: false, warn: (line) => warnings.push(line) });
    const identity = await client(provider).send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(bed.accountId);
    expect(identity.Arn).toBe(
      `arn:aws:sts::${bed.accountId}:assumed-role/gitlab-demo-group-demo-project/gitlab-demo-group-demo-project-777`,
    );
    expect(issuedHere().map((set) => set.accessKeyId)).toEqual([(await provider()).accessKeyId]);
    expect(warnings).toEqual([]);
  });

  it('takes settings by the option table’s names, over the job’s variables', async () => {
    const provider = fromGitLabIdToken({
      env: job.env,
      cache: false,
      roleSessionName: 'from-the-library',
      durationSeconds: 900,
    });
    const identity = await provider();
    expect(identity.accountId).toBe(bed.accountId);
    expect(bed.sts.issued.at(-1)?.sessionName).toBe('from-the-library');
    const lifetime = identity.expiration.getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(800_000);
    expect(lifetime).toBeLessThanOrEqual(900_000);
  });

  it('shares one exchange between concurrent callers and clients, and reuses the set while it lasts', async () => {
    const provider = fromGitLabIdToken({ env: job.env, cache: false });
    const sets = await Promise.all([provider(), provider(), provider(), provider()]);
    expect(new Set(sets.map((set) => set.accessKeyId)).size).toBe(1);
    await client(provider).send(new GetCallerIdentityCommand({}));
    await client(provider).send(new GetCallerIdentityCommand({}));
    expect(issuedHere()).toHaveLength(1);
  });

  it('shares the encrypted cache with the command line', async () => {
    const provider = fromGitLabIdToken({ env: job.env });
    const set = await provider();
    const cli = await runCli(['process'], job.env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).AccessKeyId).toBe(set.accessKeyId);
    expect(issuedHere()).toHaveLength(1);
  });

  it('rejects a bad setting before any STS call, with the fix and without the token', async () => {
    const error = await rejection(fromGitLabIdToken({ env: job.env, durationSeconds: 60 })());
    expect(error).toBeInstanceOf(HelperError);
    expect(error.message).toMatch(/duration-seconds.*900 to 43200/s);
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain(token.split('.')[2]);
    expect(issuedHere()).toHaveLength(0);
  });

  it('does not keep a failure: a later call succeeds once the token is there', async () => {
    const env: Record<string, string | undefined> = { ...job.env, GITLAB_AWS_IDENTITY_TOKEN: undefined };
    const provider = fromGitLabIdToken({ env, cache: false });
    const error = await rejection(provider());
    expect(error).toBeInstanceOf(HelperError);
    expect(error.message).toContain('GITLAB_AWS_IDENTITY_TOKEN');
    env.GITLAB_AWS_IDENTITY_TOKEN = token;
    expect((await provider()).accessKeyId).toBe(bed.sts.issued.at(-1)?.accessKeyId);
  });

  it('names STS’s refusal and its fix when the role does not trust the token', async () => {
    const other = await bed.mint({
      project_path: 'someone/else',
      sub: 'project_path:someone/else:ref_type:branch:ref:main',
    });
    const error = await rejection(
      fromGitLabIdToken({ env: { ...job.env, GITLAB_AWS_IDENTITY_TOKEN: other }, cache: false })(),
    );
    expect(error).toBeInstanceOf(HelperError);
    expect((error as Library.HelperError).code).toBe('AccessDenied');
    expect(error.message).not.toContain(other.split('.')[2]);
  });
});

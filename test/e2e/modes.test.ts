/**
 * The pipelines of the README, end to end: the built CLI exchanges a real signed token at the local
 * STS, and real clients (the AWS CLI v1 and v2, the AWS SDK for JavaScript) use the credentials.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ROLE_NAME, startTestBed, type TestBed } from '../support/bed.js';
import {
  assertBuilt,
  assertInstalled,
  clientTitle,
  createJob,
  credentialProcessLine,
  NODE,
  PIPELINE_ID,
  realClients,
  run,
  runCli,
  skippedHere,
} from './harness.js';

const SDK_CALLER = resolve(import.meta.dirname, 'fixtures/sdk-caller-identity.mjs');
const BOTOCORE_CREDENTIALS = resolve(import.meta.dirname, 'fixtures/botocore-credentials.py');
const SESSION = `${DEMO_ROLE_NAME}-${PIPELINE_ID}`;
const ASSUMED_ARN = `arn:aws:sts::123456789012:assumed-role/${DEMO_ROLE_NAME}/${SESSION}`;

const CLIENTS = await realClients();
const DEPLOYER_ARN = `arn:aws:sts::333333333333:assumed-role/Deployer/Deployer-${PIPELINE_ID}`;

let bed: TestBed;

beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
  // A second account whose role trusts every branch of the project, for profiles side by side.
  const providerArn = bed.sts.addOidcProvider({
    accountId: '333333333333',
    url: bed.issuer.iss,
    clientIds: [bed.issuer.iss],
    fetchBaseUrl: bed.issuer.baseUrl,
  });
  bed.sts.addRole({
    accountId: '333333333333',
    roleName: 'Deployer',
    trustPolicy: bed.sts.trustPolicyFor({
      providerArn,
      sub: 'project_path:demo-group/demo-project:ref_type:branch:ref:*',
      aud: bed.issuer.iss,
      operator: 'StringLike',
    }),
  });
});

afterAll(async () => {
  await bed?.stop();
});

function arnOf(stdout: string): string {
  return (JSON.parse(stdout) as { Arn: string }).Arn;
}

describe('process (credential_process)', () => {
  it('prints only the credential_process JSON on stdout, and nothing on stderr', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const result = await runCli(['process'], job.env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const json = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(Object.keys(json).sort()).toEqual(
        ['AccessKeyId', 'AccountId', 'Expiration', 'SecretAccessKey', 'SessionToken', 'Version'].sort(),
      );
      expect(json.Version).toBe(1);
      expect(json.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
      expect(json.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(result.stdout.endsWith('}\n')).toBe(true);
      const exchange = bed.sts.requests
        .filter((request) => request.action === 'AssumeRoleWithWebIdentity')
        .at(-1);
      expect(exchange?.params).toMatchObject({
        RoleArn: bed.roleArn,
        RoleSessionName: SESSION,
        DurationSeconds: '3600',
      });
      expect(exchange?.headers.authorization).toBeUndefined();
      expect(exchange?.headers['x-amz-security-token']).toBeUndefined();
    } finally {
      await job.cleanup();
    }
  });
});

describe('aws-profile', () => {
  it('writes the default profile, touching nothing else', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const result = await runCli(['aws-profile'], job.env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/wrote profile \[default\] to .*credentials/);
      const text = await readFile(job.credentialsFile, 'utf8');
      expect(text).toMatch(/^\[default\]\naws_access_key_id = ASIA/);
    } finally {
      await job.cleanup();
    }
  });
});

describe('env', () => {
  it('prints dotenv lines, or writes them to a 0600 file', async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      const printed = await runCli(['env'], job.env);
      expect(printed.code, printed.stderr).toBe(0);
      expect(printed.stdout).toMatch(
        /^AWS_ACCESS_KEY_ID=ASIA\w{16}\nAWS_SECRET_ACCESS_KEY=\S+\nAWS_SESSION_TOKEN=\S+\nAWS_CREDENTIAL_EXPIRATION=\S+Z\nAWS_ACCOUNT_ID=123456789012\n$/,
      );
      const file = resolve(job.home, 'aws.env');
      const written = await runCli(['env', '--filename', file], job.env);
      expect(written.code, written.stderr).toBe(0);
      expect(written.stdout).toBe('');
      const { statSync } = await import('node:fs');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).toMatch(/^AWS_ACCESS_KEY_ID=ASIA/);
    } finally {
      await job.cleanup();
    }
  });

  it('replaces a stale AWS_ACCOUNT_ID, which the SDKs pair with the keys, in every hand-over', async () => {
    // Left from other credentials, it would send account-based endpoint calls to that account.
    const job = await createJob(bed, await bed.mint(), { AWS_ACCOUNT_ID: '999999999999' });
    try {
      const sdk = (result: { code: number | null; stdout: string; stderr: string }) => {
        expect(result.code, result.stderr).toBe(0);
        return (JSON.parse(result.stdout) as { CredentialAccountId: string | null }).CredentialAccountId;
      };
      const boto = (result: { code: number | null; stdout: string; stderr: string }) => {
        expect(result.code, result.stderr).toBe(0);
        return (JSON.parse(result.stdout) as { accountId: string | null }).accountId;
      };
      const exported = `eval "$(${credentialProcessLine(['env', '--export'])})"`;
      expect(sdk(await runCli(['env', '--', NODE, SDK_CALLER], job.env))).toBe(bed.accountId);
      expect(boto(await runCli(['env', '--', 'python3', BOTOCORE_CREDENTIALS], job.env))).toBe(bed.accountId);
      expect(sdk(await run('bash', ['-c', `${exported} && "${NODE}" "${SDK_CALLER}"`], job.env))).toBe(
        bed.accountId,
      );
      expect(
        boto(await run('bash', ['-c', `${exported} && python3 "${BOTOCORE_CREDENTIALS}"`], job.env)),
      ).toBe(bed.accountId);
      // credential_process: the AccountId of the JSON, which both read.
      await mkdir(resolve(job.home, '.aws'), { recursive: true });
      await writeFile(job.configFile, `[default]\ncredential_process = ${credentialProcessLine()}\n`);
      expect(sdk(await run(NODE, [SDK_CALLER], job.env))).toBe(bed.accountId);
      expect(boto(await run('python3', [BOTOCORE_CREDENTIALS], job.env))).toBe(bed.accountId);
    } finally {
      await job.cleanup();
    }
  });

  it("passes the command's exit code and signal death through, and keeps the token from it", async () => {
    const job = await createJob(bed, await bed.mint());
    try {
      expect((await runCli(['env', '--', 'sh', '-c', 'exit 42'], job.env)).code).toBe(42);
      const killed = await runCli(['env', '--', 'sh', '-c', 'kill -TERM $$'], job.env);
      expect([killed.code, killed.signal]).toEqual([null, 'SIGTERM']);
      const seen = await runCli(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
        ['env', '--', 'sh', '-c', 'echo "${GITLAB_AWS_IDENTITY_TOKEN:-absent} ${AWS_PROFILE:-none}"'],
        {
          ...job.env,
          AWS_PROFILE: 'x',
        },
      );
      expect(seen.stdout).toBe('absent none\n');
      // Nothing the helper sets for itself (the SDK's switches) reaches the command, even on an STS call.
      const own = await runCli(['env', '--no-cache', '--', 'sh', '-c', 'env | cut -d= -f1 | sort'], job.env);
      const expected = new Set([
        ...Object.keys(job.env).filter(
          (name) => job.env[name] !== undefined && name !== 'GITLAB_AWS_IDENTITY_TOKEN',
        ),
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_CREDENTIAL_EXPIRATION',
        'AWS_ACCOUNT_ID',
      ]);
      const shellOwn = new Set(['PWD', 'SHLVL', '_', 'OLDPWD']);
      expect(own.stdout.split('\n').filter((name) => name !== '' && !shellOwn.has(name))).toEqual(
        [...expected].sort(),
      );
      const args = await runCli(
        ['env', '--', 'sh', '-c', 'echo "$@"', 'sh', '--not-an-option', '-x'],
        job.env,
      );
      expect(args.stdout).toBe('--not-an-option -x\n');
    } finally {
      await job.cleanup();
    }
  });
});

describe.each(CLIENTS)('$label', (client) => {
  // Each client on its own: a missing one is a skip that says why (a failure under CI=true), never
  // an empty loop that passes.
  describe.skipIf(skippedHere(client))(clientTitle(client), () => {
    beforeAll(() => assertInstalled(client));

    async function whoAmI(env: Record<string, string | undefined>, profile?: string): Promise<string> {
      const [command = '', ...args] = client.whoAmI(bed, profile);
      const identity = await run(command, args, env);
      expect(identity.code, `${client.label}: ${identity.stderr}`).toBe(0);
      return arnOf(identity.stdout);
    }

    it('uses credential_process, set the way its users set it', async () => {
      const job = await createJob(bed, await bed.mint());
      try {
        const configured = await client.configureCredentialProcess(job);
        expect(configured.code, configured.stderr).toBe(0);
        expect(await whoAmI(job.env)).toBe(ASSUMED_ARN);
      } finally {
        await job.cleanup();
      }
    });

    it('uses the default profile aws-profile wrote', async () => {
      const job = await createJob(bed, await bed.mint());
      try {
        expect((await runCli(['aws-profile'], job.env)).code).toBe(0);
        expect(await whoAmI(job.env)).toBe(ASSUMED_ARN);
      } finally {
        await job.cleanup();
      }
    });

    it('is not misled by a stale legacy aws_security_token, which aws-profile removes', async () => {
      const job = await createJob(bed, await bed.mint());
      try {
        await mkdir(resolve(job.home, '.aws'), { recursive: true });
        await writeFile(
          job.credentialsFile,
          '[default]\naws_access_key_id = ASIAOLDOLDOLDOLDOLD1\naws_security_token = stale-token-from-another-tool\naws_account_id = 999999999999\n',
        );
        expect((await runCli(['aws-profile'], job.env)).code).toBe(0);
        const text = await readFile(job.credentialsFile, 'utf8');
        expect(text).not.toContain('aws_security_token');
        expect(text).toContain('aws_account_id = 123456789012');
        expect(await whoAmI(job.env)).toBe(ASSUMED_ARN);
      } finally {
        await job.cleanup();
      }
    });

    it('uses profiles of several accounts and roles side by side', async () => {
      const job = await createJob(bed, await bed.mint());
      try {
        expect((await runCli(['aws-profile'], job.env)).code).toBe(0);
        const production = await runCli(
          ['aws-profile', '--name', 'production', '--aws-account', '333333333333', '--role', 'Deployer'],
          job.env,
        );
        expect(production.code, production.stderr).toBe(0);
        expect(await whoAmI(job.env, 'production')).toBe(DEPLOYER_ARN);
        expect(await whoAmI(job.env)).toBe(ASSUMED_ARN);
      } finally {
        await job.cleanup();
      }
    });

    it('uses the variables `eval "$(… env --export)"` puts into a shell', async () => {
      const job = await createJob(bed, await bed.mint());
      try {
        const words = client.whoAmI(bed).map((word) => `'${word}'`);
        const script = `eval "$(${credentialProcessLine(['env', '--export'])})" && ${words.join(' ')}`;
        const identity = await run('bash', ['-c', script], job.env);
        expect(identity.code, identity.stderr).toBe(0);
        expect(arnOf(identity.stdout)).toBe(ASSUMED_ARN);
      } finally {
        await job.cleanup();
      }
    });

    it('runs under `env --` with the credentials, whatever AWS_PROFILE the job had', async () => {
      const job = await createJob(bed, await bed.mint(), { AWS_PROFILE: 'does-not-exist' });
      try {
        const identity = await runCli(['env', '--', ...client.whoAmI(bed)], job.env);
        expect(identity.code, identity.stderr).toBe(0);
        expect(arnOf(identity.stdout)).toBe(ASSUMED_ARN);
      } finally {
        await job.cleanup();
      }
    });
  });
});

describe('flags', () => {
  it('are accepted before and after the command, as with the Go tool', async () => {
    const job = await createJob(bed, await bed.mint(), { GITLAB_AWS_ACCOUNT_ID: undefined });
    try {
      bed.sts.reset();
      expect((await runCli(['-A', '123456789012', '-d', '900', 'process'], job.env)).code).toBe(0);
      expect((await runCli(['process', '-A', '123456789012', '-d', '1000'], job.env)).code).toBe(0);
      // A flag after the command wins over the same flag before it.
      expect((await runCli(['-d', '900', 'process', '-A', '123456789012', '-d', '1100'], job.env)).code).toBe(
        0,
      );
      expect(bed.sts.requests.map((request) => request.params.DurationSeconds)).toEqual([
        '900',
        '1000',
        '1100',
      ]);
    } finally {
      await job.cleanup();
    }
  });
});

describe('help and version', () => {
  it.each(['process', 'aws-profile', 'env'])('%s --help shows a worked example', async (command) => {
    const result = await runCli([command, '--help'], { PATH: process.env.PATH });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Example/);
    expect(result.stdout).toMatch(/--aws-account/);
  });

  it('prints the version', async () => {
    const result = await runCli(['--version'], { PATH: process.env.PATH });
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

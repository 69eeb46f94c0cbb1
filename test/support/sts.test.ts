import { Sha256 } from '@aws-crypto/sha256-js';
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandInput,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsCliVersion, runAwsCli } from './aws-cli.js';
import { DEMO_SUB, startTestBed, type TestBed } from './bed.js';
import { startIssuer } from './issuer.js';
import { type IssuedCredentials, STS_MESSAGES, startSts } from './sts.js';
import { readXmlText } from './xml.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SESSION = 'GitLabRunner-1342-904517';

let bed: TestBed;
const clients: STSClient[] = [];

beforeAll(async () => {
  // An IdP budget short enough to test, long enough for a busy machine's own issuer to answer.
  bed = await startTestBed({ sts: { idpTimeoutMs: 10_000 } });
});

afterEach(() => {
  bed.sts.reset();
  bed.issuer.setJwksFault('none');
  for (const client of clients.splice(0)) client.destroy();
});

afterAll(async () => {
  await bed.stop();
});

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A real SDK client; without credentials it fails loudly if the SDK ever tries to sign. */
function sdk(
  options: { credentials?: Credentials; maxAttempts?: number; endpoint?: string } = {},
): STSClient {
  const client = new STSClient({
    region: 'us-east-1',
    endpoint: options.endpoint ?? bed.sts.url,
    maxAttempts: options.maxAttempts ?? 1,
    credentials:
      options.credentials ??
      (async () => {
        throw new Error('AssumeRoleWithWebIdentity must not need credentials');
      }),
  });
  clients.push(client);
  return client;
}

async function exchange(input: Partial<AssumeRoleWithWebIdentityCommandInput> = {}, client = sdk()) {
  return client.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: bed.roleArn,
      RoleSessionName: SESSION,
      WebIdentityToken: input.WebIdentityToken ?? (await bed.mint()),
      ...input,
    }),
  );
}

interface SdkFailure {
  name: string;
  message: string;
  status: number | undefined;
  requestId: string | undefined;
}

async function sdkFailure(promise: Promise<unknown>): Promise<SdkFailure> {
  try {
    await promise;
  } catch (error) {
    const e = error as {
      name: string;
      message: string;
      $metadata?: { httpStatusCode?: number; requestId?: string };
    };
    return {
      name: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      requestId: e.$metadata?.requestId,
    };
  }
  throw new Error('expected the call to fail');
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
  code: string | undefined;
  message: string | undefined;
}

async function raw(
  params: Record<string, string>,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string> } = {},
) {
  const form = new URLSearchParams(params).toString();
  const response =
    init.method === 'GET'
      ? await fetch(`${bed.sts.url}?${form}`, { headers: init.headers ?? {} })
      : await fetch(bed.sts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...init.headers },
          body: form,
        });
  const body = await response.text();
  const result: RawResponse = {
    status: response.status,
    headers: response.headers,
    body,
    code: readXmlText(body, 'Code'),
    message: readXmlText(body, 'Message'),
  };
  return result;
}

async function exchangeParams(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: bed.roleArn,
    RoleSessionName: SESSION,
    WebIdentityToken: await bed.mint(),
    ...overrides,
  };
}

async function issueCredentials(): Promise<Credentials> {
  const out = await exchange();
  const c = out.Credentials;
  if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined || c.SessionToken === undefined) {
    throw new Error('no credentials');
  }
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** Signs a GetCallerIdentity POST like an SDK would, then lets `tamper` change it before sending. */
async function signedCallerIdentity(
  credentials: Credentials,
  options: {
    tamper?: (request: { headers: Record<string, string>; body: string }) => void;
    signingDate?: Date;
    /** Send and sign `x-amz-content-sha256`, as some SDKs do. */
    applyChecksum?: boolean;
  } = {},
) {
  const url = new URL(bed.sts.url);
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: 'sts',
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    }),
    { signingDate: options.signingDate ?? new Date() },
  );
  const request = { headers: { ...(signed.headers as Record<string, string>) }, body };
  options.tamper?.(request);
  delete request.headers.host;
  const response = await fetch(bed.sts.url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  return { status: response.status, body: text, code: readXmlText(text, 'Code') };
}

describe('AssumeRoleWithWebIdentity: wire format', () => {
  it('answers a raw form POST with AWS-shaped XML and sane credentials', async () => {
    const started = Date.now();
    const response = await raw(await exchangeParams({ DurationSeconds: '7200' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/xml');
    const requestId = response.headers.get('x-amzn-requestid');
    expect(requestId).toMatch(UUID);
    const body = response.body;
    expect(
      body.startsWith(
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
      ),
    ).toBe(true);
    expect(body).toMatch(
      /<AssumeRoleWithWebIdentityResult>\s*<Credentials>\s*<AccessKeyId>[^<]+<\/AccessKeyId>\s*<SecretAccessKey>[^<]+<\/SecretAccessKey>\s*<SessionToken>[^<]+<\/SessionToken>\s*<Expiration>[^<]+<\/Expiration>\s*<\/Credentials>/,
    );
    expect(body).toMatch(
      /<AssumedRoleUser>\s*<AssumedRoleId>[^<]+<\/AssumedRoleId>\s*<Arn>[^<]+<\/Arn>\s*<\/AssumedRoleUser>/,
    );
    expect(body).toMatch(
      /<ResponseMetadata>\s*<RequestId>[^<]+<\/RequestId>\s*<\/ResponseMetadata>\s*<\/AssumeRoleWithWebIdentityResponse>\n$/,
    );
    expect(body).not.toContain('PackedPolicySize');
    expect(readXmlText(body, 'RequestId')).toBe(requestId);
    expect(readXmlText(body, 'AccessKeyId')).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(readXmlText(body, 'SecretAccessKey')).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(readXmlText(body, 'SessionToken')?.length).toBeGreaterThan(400);
    const expiration = readXmlText(body, 'Expiration') ?? '';
    expect(expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const lifetime = Date.parse(expiration) - started;
    expect(lifetime).toBeGreaterThan(7200_000 - 2000);
    expect(lifetime).toBeLessThanOrEqual(7200_000 + 1000);
    const roleId = readXmlText(body, 'AssumedRoleId')?.split(':')[0];
    expect(roleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(readXmlText(body, 'AssumedRoleId')).toBe(`${roleId}:${SESSION}`);
    expect(readXmlText(body, 'Arn')).toBe(
      `arn:aws:sts::123456789012:assumed-role/gitlab-demo-group-demo-project/${SESSION}`,
    );
    expect(readXmlText(body, 'SubjectFromWebIdentityToken')).toBe(DEMO_SUB);
    expect(readXmlText(body, 'Provider')).toBe(bed.providerArn);
    expect(bed.providerArn).toBe('arn:aws:iam::123456789012:oidc-provider/gitlab.example.com');
    expect(readXmlText(body, 'Audience')).toBe('https://gitlab.example.com');

    const [record] = bed.sts.requests;
    expect(record).toMatchObject({
      action: 'AssumeRoleWithWebIdentity',
      method: 'POST',
      status: 200,
      requestId,
    });
    expect(record?.errorCode).toBeUndefined();
    expect(record?.trust?.allowed).toBe(true);
    expect(bed.sts.issued.at(-1)?.accessKeyId).toBe(readXmlText(body, 'AccessKeyId'));
    expect(bed.sts.exchangeCount()).toBe(1);
  });

  it('accepts the GET query-string form', async () => {
    const response = await raw(await exchangeParams(), { method: 'GET' });
    expect(response.status).toBe(200);
    expect(bed.sts.requests[0]?.method).toBe('GET');
  });

  it('escapes XML special characters in echoed values', async () => {
    const sub = 'project_path:a&b/<c>:ref_type:branch:ref:"main"';
    const { arn } = bed.sts.addRole({
      accountId: bed.accountId,
      roleName: 'escaping-role',
      trustPolicy: bed.sts.trustPolicyFor({ providerArn: bed.providerArn, sub, aud: bed.issuer.iss }),
    });
    const response = await raw(
      await exchangeParams({ RoleArn: arn, WebIdentityToken: await bed.mint({ sub }) }),
    );
    expect(response.status).toBe(200);
    expect(response.body).toContain('<SubjectFromWebIdentityToken>project_path:a&amp;b/&lt;c&gt;');
    expect(readXmlText(response.body, 'SubjectFromWebIdentityToken')).toBe(sub);
    const out = await exchange({ RoleArn: arn, WebIdentityToken: await bed.mint({ sub }) });
    expect(out.SubjectFromWebIdentityToken).toBe(sub);
  });

  it('returns errors as ErrorResponse with Type, Code, Message and a sibling RequestId', async () => {
    const response = await raw(
      await exchangeParams({ WebIdentityToken: await bed.mint({ aud: 'sts.amazonaws.com' }) }),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/xml');
    const requestId = response.headers.get('x-amzn-requestid') ?? '';
    expect(response.body).toBe(
      [
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">',
        '  <Error>',
        '    <Type>Sender</Type>',
        '    <Code>InvalidIdentityToken</Code>',
        '    <Message>Incorrect token audience</Message>',
        '  </Error>',
        `  <RequestId>${requestId}</RequestId>`,
        '</ErrorResponse>',
        '',
      ].join('\n'),
    );
    expect(bed.sts.requests[0]).toMatchObject({ status: 400, errorCode: 'InvalidIdentityToken' });
  });

  it('rejects unknown actions and wrong versions with InvalidAction', async () => {
    const unknown = await raw({ Action: 'AssumeRoleWithMagic', Version: '2011-06-15' });
    expect(unknown).toMatchObject({
      status: 400,
      code: 'InvalidAction',
      message: 'Could not find operation AssumeRoleWithMagic for version 2011-06-15',
    });
    const version = await raw(await exchangeParams({ Version: '2010-01-01' }));
    expect(version).toMatchObject({ status: 400, code: 'InvalidAction' });
    expect(bed.sts.exchangeCount()).toBe(1);
  });
});

describe('AssumeRoleWithWebIdentity: parameter validation', () => {
  it.each([
    [
      { RoleSessionName: 'has space' },
      "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ],
    [
      { RoleSessionName: 'x' },
      "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ],
    [
      { RoleSessionName: 's'.repeat(65) },
      `1 validation error detected: Value '${'s'.repeat(65)}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    ],
    [
      { DurationSeconds: '899' },
      "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    ],
    [
      { DurationSeconds: '43201' },
      "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    ],
    [
      { RoleArn: 'arn:aws:iam::1:r/x' },
      "1 validation error detected: Value 'arn:aws:iam::1:r/x' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
    ],
    [
      { WebIdentityToken: 'abc' },
      "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4",
    ],
  ])('%o → ValidationError', async (overrides, message) => {
    const response = await raw(await exchangeParams(overrides));
    expect(response).toMatchObject({ status: 400, code: 'ValidationError', message });
  });

  it('reports missing parameters as null members, all of them at once', async () => {
    const params = await exchangeParams({ RoleSessionName: 'a b' });
    delete params.RoleArn;
    delete params.WebIdentityToken;
    const response = await raw(params);
    expect(response).toMatchObject({
      status: 400,
      code: 'ValidationError',
      message:
        "3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
        "Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; " +
        "Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null",
    });
  });

  it('never echoes the web identity token', async () => {
    const response = await raw(await exchangeParams({ WebIdentityToken: 'x'.repeat(20001) }));
    expect(response.code).toBe('ValidationError');
    expect(response.message).toContain("Value at 'webIdentityToken'");
    expect(response.body).not.toContain('xxxx');
  });

  it('rejects a role ARN that is not a role ARN', async () => {
    const response = await raw(await exchangeParams({ RoleArn: 'arn:aws:s3:::some-bucket-name' }));
    expect(response).toMatchObject({
      status: 400,
      code: 'ValidationError',
      message: 'Request ARN is invalid',
    });
  });

  it('validates through the SDK too: error name, status and request id', async () => {
    const failure = await sdkFailure(exchange({ RoleSessionName: 'bad/name' }));
    expect(failure.name).toBe('ValidationError');
    expect(failure.status).toBe(400);
    expect(failure.requestId).toBe(bed.sts.requests[0]?.requestId);
  });
});

describe('AssumeRoleWithWebIdentity: token verification', () => {
  it('exchanges a good token through the SDK without signing the request', async () => {
    const out = await exchange({ DurationSeconds: 43200 });
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(out.AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::123456789012:assumed-role/gitlab-demo-group-demo-project/${SESSION}`,
    );
    expect(out.Provider).toBe(bed.providerArn);
    expect(out.Audience).toBe('https://gitlab.example.com');
    expect(out.SubjectFromWebIdentityToken).toBe(DEMO_SUB);
    const [record] = bed.sts.requests;
    expect(record?.headers.authorization).toBeUndefined();
    expect(record?.headers['x-amz-security-token']).toBeUndefined();
    expect(record?.params.WebIdentityToken).toMatch(/^eyJ/);
    expect(bed.issuer.jwksFetches).toBeGreaterThan(0);
  });

  it.each([
    ['not a JWT', async () => 'not-a-jwt-at-all', STS_MESSAGES.unparseableToken],
    ['garbage segments', async () => 'aaaa.bbbb.cccc', STS_MESSAGES.unparseableToken],
    ['an unknown signing key', () => bed.mint({}, { signWith: 'unknown-key' }), STS_MESSAGES.unknownKid],
    ['an unknown kid', () => bed.mint({}, { kid: 'no-such-kid' }), STS_MESSAGES.unknownKid],
    ['HS256', () => bed.mint({}, { signWith: 'hs256' }), STS_MESSAGES.unsupportedAlgorithm],
    ['a wrong audience', () => bed.mint({ aud: 'sts.amazonaws.com' }), STS_MESSAGES.incorrectAudience],
    [
      'an audience list without the client id',
      () => bed.mint({ aud: ['a', 'b'] }),
      STS_MESSAGES.incorrectAudience,
    ],
    [
      'an issuer with no provider in the account',
      () => bed.mint({ iss: 'https://gitlab.other.example' }),
      STS_MESSAGES.noProvider('https://gitlab.other.example'),
    ],
    [
      'a token not valid yet',
      () => bed.mint({}, { notBefore: Math.floor(Date.now() / 1000) + 400 }),
      STS_MESSAGES.notYetValid,
    ],
  ])('rejects %s with InvalidIdentityToken', async (_label, token, message) => {
    const failure = await sdkFailure(exchange({ WebIdentityToken: await token() }));
    expect(failure).toMatchObject({ name: 'InvalidIdentityTokenException', message, status: 400 });
    expect(bed.sts.requests[0]?.errorCode).toBe('InvalidIdentityToken');
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await bed.mint()).split('.');
    const forged = Buffer.from(
      JSON.stringify(bed.issuer.claims({ project_path: 'demo-group/other' })),
    ).toString('base64url');
    const failure = await sdkFailure(exchange({ WebIdentityToken: `${header}.${forged}.${signature}` }));
    expect(failure).toMatchObject({
      name: 'InvalidIdentityTokenException',
      message: STS_MESSAGES.badSignature,
    });
  });

  it('accepts a token inside the 5-minute skew and rejects one past it with ExpiredTokenException', async () => {
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await bed.mint({}, { issuedAt: now - 3600 - 240 });
    await expect(exchange({ WebIdentityToken: justExpired })).resolves.toBeDefined();
    const expired = await bed.mint({}, { issuedAt: now - 3600 - 320 });
    const failure = await sdkFailure(exchange({ WebIdentityToken: expired }));
    expect(failure.name).toBe('ExpiredTokenException');
    expect(failure.status).toBe(400);
    expect(failure.message).toMatch(
      new RegExp(
        `^Token expired: current date/time \\d+ must be before the expiration date/time${now - 320}$`,
      ),
    );
    const nearlyValid = await bed.mint({}, { notBefore: now + 200 });
    await expect(exchange({ WebIdentityToken: nearlyValid })).resolves.toBeDefined();
  });

  it('does not find the provider in another account', async () => {
    const { arn } = bed.sts.addRole({
      accountId: '210987654321',
      roleName: 'gitlab-demo-group-demo-project',
      trustPolicy: bed.sts.trustPolicyFor({
        providerArn: bed.providerArn,
        sub: DEMO_SUB,
        aud: bed.issuer.iss,
      }),
    });
    const failure = await sdkFailure(exchange({ RoleArn: arn }));
    expect(failure.message).toBe(
      'No OpenIDConnect provider found in your account for https://gitlab.example.com',
    );
  });

  it.each([
    ['answers 500', 'http500' as const],
    ['drops the connection', 'unavailable' as const],
    ['is slower than the IdP timeout', 'slow' as const],
  ])("reports Couldn't retrieve verification key when the JWKS endpoint %s", async (_label, fault) => {
    bed.issuer.setJwksFault(fault, { delayMs: 120_000 });
    const token = await bed.mint();
    const started = Date.now();
    const failure = await sdkFailure(exchange({ WebIdentityToken: token }));
    expect(failure).toMatchObject({
      name: 'InvalidIdentityTokenException',
      status: 400,
      message:
        "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
    });
    // Well before the stalled answer: STS gave up at its own budget.
    expect(Date.now() - started).toBeLessThan(60_000);
    bed.issuer.setJwksFault('none');
    await expect(exchange({ WebIdentityToken: token })).resolves.toBeDefined();
  });

  it('verifies tokens signed before and after a key rotation', async () => {
    const before = await bed.mint();
    await bed.issuer.rotateKey();
    const after = await bed.mint();
    await expect(exchange({ WebIdentityToken: before })).resolves.toBeDefined();
    await expect(exchange({ WebIdentityToken: after })).resolves.toBeDefined();
  });
});

describe('AssumeRoleWithWebIdentity: role and trust policy', () => {
  it('denies a project the role does not trust, recording why', async () => {
    const failure = await sdkFailure(
      exchange({ WebIdentityToken: await bed.mint({ project_path: 'demo-group/other' }) }),
    );
    expect(failure).toMatchObject({
      name: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      status: 403,
    });
    const [record] = bed.sts.requests;
    expect(record).toMatchObject({ status: 403, errorCode: 'AccessDenied' });
    expect(record?.trust).toMatchObject({ allowed: false, reason: 'no-matching-allow' });
  });

  it('denies another branch and a tag of the trusted project', async () => {
    for (const claims of [{ ref: 'feature' }, { ref: 'main', ref_type: 'tag' as const }]) {
      const failure = await sdkFailure(exchange({ WebIdentityToken: await bed.mint(claims) }));
      expect(failure.name).toBe('AccessDenied');
    }
  });

  it('denies an unknown role with the same message', async () => {
    const failure = await sdkFailure(exchange({ RoleArn: 'arn:aws:iam::123456789012:role/does-not-exist' }));
    expect(failure).toMatchObject({ name: 'AccessDenied', status: 403, message: STS_MESSAGES.accessDenied });
    expect(bed.sts.requests[0]?.trust).toBeUndefined();
  });

  it('enforces the role MaxSessionDuration', async () => {
    const { arn } = bed.sts.addRole({
      accountId: bed.accountId,
      roleName: 'one-hour-role',
      path: '/ci/',
      trustPolicy: bed.sts.trustPolicyFor({
        providerArn: bed.providerArn,
        sub: DEMO_SUB,
        aud: bed.issuer.iss,
      }),
    });
    expect(arn).toBe('arn:aws:iam::123456789012:role/ci/one-hour-role');
    await expect(exchange({ RoleArn: arn, DurationSeconds: 3600 })).resolves.toBeDefined();
    const failure = await sdkFailure(exchange({ RoleArn: arn, DurationSeconds: 3601 }));
    expect(failure).toMatchObject({
      name: 'ValidationError',
      status: 400,
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    });
    // The path is part of the role ARN but not of the assumed-role ARN.
    const out = await exchange({ RoleArn: arn });
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::123456789012:assumed-role/one-hour-role/${SESSION}`);
  });

  it('supports StringLike wildcards on sub', async () => {
    const { arn } = bed.sts.addRole({
      accountId: bed.accountId,
      roleName: 'any-branch-role',
      trustPolicy: bed.sts.trustPolicyFor({
        providerArn: bed.providerArn,
        sub: 'project_path:demo-group/demo-project:ref_type:branch:ref:*',
        aud: bed.issuer.iss,
        operator: 'StringLike',
      }),
    });
    await expect(
      exchange({ RoleArn: arn, WebIdentityToken: await bed.mint({ ref: 'feature/x' }) }),
    ).resolves.toBeDefined();
    const tag = await sdkFailure(
      exchange({ RoleArn: arn, WebIdentityToken: await bed.mint({ ref_type: 'tag' }) }),
    );
    expect(tag.name).toBe('AccessDenied');
  });

  it('refuses malformed setup input like IAM would', () => {
    expect(() =>
      bed.sts.addRole({ accountId: bed.accountId, roleName: 'bad role', trustPolicy: {} }),
    ).toThrow(/invalid role name/);
    expect(() =>
      bed.sts.addRole({ accountId: bed.accountId, roleName: 'x', maxSessionDuration: 100, trustPolicy: {} }),
    ).toThrow(/maxSessionDuration/);
    expect(() =>
      bed.sts.addRole({
        accountId: bed.accountId,
        roleName: 'malformed',
        trustPolicy: { Statement: 'nope' },
      }),
    ).toThrow(/MalformedPolicyDocument/);
    expect(() =>
      bed.sts.addOidcProvider({
        accountId: bed.accountId,
        url: 'https://gitlab.example.com:8443',
        clientIds: ['x'],
        fetchBaseUrl: bed.issuer.baseUrl,
      }),
    ).toThrow(/no port/);
  });
});

describe('GetCallerIdentity', () => {
  it('identifies the assumed role for a request signed by the SDK', async () => {
    const credentials = await issueCredentials();
    const out = await sdk({ credentials }).send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({
      Arn: `arn:aws:sts::123456789012:assumed-role/gitlab-demo-group-demo-project/${SESSION}`,
      UserId: expect.stringMatching(new RegExp(`^AROA[A-Z0-9]{17}:${SESSION}$`)),
      Account: '123456789012',
    });
    const record = bed.sts.requests.at(-1);
    expect(record?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIA/);
  });

  it('rejects a signature made with the wrong secret', async () => {
    const credentials = await issueCredentials();
    // Really change the last character: a secret that already ended in 'A' stayed valid.
    const last = credentials.secretAccessKey.at(-1) === 'A' ? 'B' : 'A';
    const wrong = { ...credentials, secretAccessKey: `${credentials.secretAccessKey.slice(0, -1)}${last}` };
    const failure = await sdkFailure(sdk({ credentials: wrong }).send(new GetCallerIdentityCommand({})));
    expect(failure).toMatchObject({
      name: 'SignatureDoesNotMatch',
      status: 403,
      message: STS_MESSAGES.signatureDoesNotMatch,
    });
  });

  it('rejects unknown keys and mismatched or missing session tokens', async () => {
    const credentials = await issueCredentials();
    const unknown = await sdkFailure(
      sdk({ credentials: { ...credentials, accessKeyId: 'ASIAAAAAAAAAAAAAAAAA' } }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(unknown).toMatchObject({
      name: 'InvalidClientTokenId',
      status: 403,
      message: 'The security token included in the request is invalid.',
    });
    const otherToken = await sdkFailure(
      sdk({ credentials: { ...credentials, sessionToken: 'IQoJb3JpZ2luX2VjEother' } }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(otherToken.name).toBe('InvalidClientTokenId');
    const { sessionToken: _dropped, ...withoutToken } = credentials;
    const noToken = await sdkFailure(
      sdk({ credentials: withoutToken }).send(new GetCallerIdentityCommand({})),
    );
    expect(noToken.name).toBe('InvalidClientTokenId');
  });

  it('requires authentication', async () => {
    const response = await raw({ Action: 'GetCallerIdentity', Version: '2011-06-15' });
    expect(response).toMatchObject({
      status: 403,
      code: 'MissingAuthenticationToken',
      message: 'Request is missing Authentication Token',
    });
  });

  it.each([false, true])(
    'verifies an untouched signed request and rejects tampered ones (x-amz-content-sha256: %s)',
    async (applyChecksum) => {
      const credentials = await issueCredentials();
      const ok = await signedCallerIdentity(credentials, { applyChecksum });
      expect(ok.status).toBe(200);
      const body = await signedCallerIdentity(credentials, {
        applyChecksum,
        tamper: (request) => {
          request.body = 'Action=GetCallerIdentity&Version=2011-06-15&Extra=1';
        },
      });
      expect(body).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      const signature = await signedCallerIdentity(credentials, {
        applyChecksum,
        tamper: (request) => {
          const auth = request.headers.authorization ?? '';
          request.headers.authorization = `${auth.slice(0, -1)}${auth.at(-1) === '0' ? '1' : '0'}`;
        },
      });
      expect(signature).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
      const header = await signedCallerIdentity(credentials, {
        applyChecksum,
        tamper: (request) => {
          request.headers['content-type'] = 'application/x-www-form-urlencoded';
        },
      });
      expect(header).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    },
  );

  it('rejects a signature older than 15 minutes', async () => {
    const credentials = await issueCredentials();
    const stale = await signedCallerIdentity(credentials, {
      signingDate: new Date(Date.now() - 20 * 60 * 1000),
    });
    expect(stale).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(readXmlText(stale.body, 'Message')).toMatch(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
    );
  });

  it('rejects expired credentials with ExpiredToken', async () => {
    let clock = Date.now();
    const issuer = await startIssuer();
    const sts = await startSts({ now: () => clock });
    try {
      const providerArn = sts.addOidcProvider({
        accountId: '123456789012',
        url: issuer.iss,
        clientIds: [issuer.iss],
        fetchBaseUrl: issuer.baseUrl,
      });
      const { arn } = sts.addRole({
        accountId: '123456789012',
        roleName: 'short',
        trustPolicy: sts.trustPolicyFor({ providerArn, sub: DEMO_SUB, aud: issuer.iss }),
      });
      const out = await sdk({ endpoint: sts.url }).send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: arn,
          RoleSessionName: 's1',
          WebIdentityToken: await issuer.mint(),
          DurationSeconds: 900,
        }),
      );
      const issued = sts.issued[0] as IssuedCredentials;
      expect(out.Credentials?.Expiration?.getTime()).toBe(issued.expiration.getTime());
      const client = sdk({ endpoint: sts.url, credentials: issued });
      await expect(client.send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
      clock += 901_000;
      const failure = await sdkFailure(client.send(new GetCallerIdentityCommand({})));
      expect(failure).toMatchObject({
        name: 'ExpiredToken',
        status: 403,
        message: 'The security token included in the request is expired',
      });
    } finally {
      await Promise.all([sts.stop(), issuer.stop()]);
    }
  });
});

describe('scripted faults', () => {
  it('throttles the next N matching calls only, then serves normally', async () => {
    bed.sts.injectFault({ kind: 'throttle' }, { times: 2, action: 'AssumeRoleWithWebIdentity' });
    for (let i = 0; i < 2; i += 1) {
      const failure = await sdkFailure(exchange());
      expect(failure).toMatchObject({ name: 'Throttling', status: 400, message: 'Rate exceeded' });
    }
    await expect(exchange()).resolves.toBeDefined();
    expect(bed.sts.exchangeCount()).toBe(3);
    expect(bed.sts.requests.map((r) => r.errorCode)).toEqual(['Throttling', 'Throttling', undefined]);
  });

  it('lets the SDK retry through transient throttling', async () => {
    bed.sts.injectFault({ kind: 'throttle' }, { times: 1 });
    const out = await exchange({}, sdk({ maxAttempts: 3 }));
    expect(out.$metadata.attempts).toBe(2);
    expect(bed.sts.exchangeCount()).toBe(2);
  });

  it('does not apply a fault to other actions', async () => {
    const credentials = await issueCredentials();
    bed.sts.injectFault({ kind: 'http', status: 503 }, { action: 'AssumeRoleWithWebIdentity' });
    await expect(sdk({ credentials }).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    expect((await sdkFailure(exchange())).name).toBe('ServiceUnavailable');
  });

  it.each([
    [{ kind: 'http', status: 500 } as const, 500, 'InternalFailure'],
    [{ kind: 'http', status: 502 } as const, 502, 'InternalFailure'],
    [{ kind: 'http', status: 503 } as const, 503, 'ServiceUnavailable'],
    [{ kind: 'http', status: 504 } as const, 504, 'ServiceUnavailable'],
    [{ kind: 'idp-communication' } as const, 400, 'IDPCommunicationErrorException'],
    [{ kind: 'verification-key' } as const, 400, 'InvalidIdentityTokenException'],
    [{ kind: 'region-disabled' } as const, 403, 'RegionDisabledException'],
    [{ kind: 'packed-policy' } as const, 400, 'PackedPolicyTooLargeException'],
  ])('%o → HTTP %i %s, once', async (fault, status, name) => {
    bed.sts.injectFault(fault);
    const failure = await sdkFailure(exchange());
    expect(failure).toMatchObject({ status, name });
    expect(failure.requestId).toBe(bed.sts.requests[0]?.requestId);
    await expect(exchange()).resolves.toBeDefined();
  });

  it('marks server faults as Receiver and names the account for RegionDisabledException', async () => {
    bed.sts.injectFault({ kind: 'http', status: 500 });
    const server = await raw(await exchangeParams());
    expect(readXmlText(server.body, 'Type')).toBe('Receiver');
    bed.sts.injectFault({ kind: 'region-disabled' });
    const region = await raw(await exchangeParams());
    expect(region.message).toBe(
      'STS is not activated in this region for account:123456789012. Your account administrator can activate STS in this region using the IAM Console.',
    );
  });

  it('resets the connection', async () => {
    bed.sts.injectFault({ kind: 'reset' });
    await expect(raw(await exchangeParams())).rejects.toThrow();
    expect(bed.sts.requests[0]).toMatchObject({ status: 0, errorCode: 'ConnectionReset' });
    expect((await raw(await exchangeParams())).status).toBe(200);
  });

  it('delays one response, and latency applies to every response', async () => {
    // A delay far above what an exchange takes on a busy machine, so that "not delayed" is clear.
    bed.sts.injectFault({ kind: 'delay', ms: 5000 });
    let started = Date.now();
    expect((await raw(await exchangeParams())).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4990);
    started = Date.now();
    await raw(await exchangeParams());
    expect(Date.now() - started).toBeLessThan(4990);

    bed.sts.setLatency(200);
    try {
      started = Date.now();
      await raw({ Action: 'GetCallerIdentity', Version: '2011-06-15' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      bed.sts.setLatency(0);
    }
  });

  it('clears faults and the request log', async () => {
    bed.sts.injectFault({ kind: 'throttle' }, { times: Number.POSITIVE_INFINITY });
    expect((await raw(await exchangeParams())).code).toBe('Throttling');
    expect((await raw(await exchangeParams())).code).toBe('Throttling');
    bed.sts.clearFaults();
    expect((await raw(await exchangeParams())).status).toBe(200);
    bed.sts.reset();
    expect(bed.sts.requests).toEqual([]);
    expect(bed.sts.exchangeCount()).toBe(0);
  });

  it('stops promptly with keep-alive clients and a pending delayed response', async () => {
    const sts = await startSts();
    const client = sdk({ endpoint: sts.url });
    sts.injectFault({ kind: 'delay', ms: 60_000 });
    const pending = sdkFailure(
      client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: bed.roleArn,
          RoleSessionName: 's1',
          WebIdentityToken: 'abcd',
        }),
      ),
    );
    await vi.waitFor(() => expect(sts.requests).toHaveLength(1), { timeout: 30_000 });
    const started = Date.now();
    await sts.stop();
    // Far below the 60 s delay: stop did not wait for it.
    expect(Date.now() - started).toBeLessThan(30_000);
    await pending;
  });
});

const cliVersion = awsCliVersion();
const requireCli = process.env.CI === 'true';

describe.runIf(cliVersion !== undefined || requireCli)(
  cliVersion === undefined && !requireCli
    ? 'the real AWS CLI — SKIPPED: no `aws` on PATH; with CI=true this fails instead'
    : 'the real AWS CLI',
  () => {
    it('is installed (required under CI)', () => {
      expect(cliVersion, 'the AWS CLI must be on PATH when CI=true').toMatch(/^aws-cli\/[12]\./);
    });

    const cliArgs = (token: string) => [
      'sts',
      'assume-role-with-web-identity',
      '--endpoint-url',
      bed.sts.url,
      '--role-arn',
      bed.roleArn,
      '--role-session-name',
      SESSION,
      '--web-identity-token',
      token,
      '--duration-seconds',
      '3600',
      '--region',
      'us-east-1',
      '--output',
      'json',
    ];

    it('exchanges a token unsigned, then get-caller-identity verifies the botocore signature', async () => {
      const assumed = await runAwsCli(cliArgs(await bed.mint()));
      expect(assumed.exitCode, assumed.stderr).toBe(0);
      const out = JSON.parse(assumed.stdout) as {
        Credentials: {
          AccessKeyId: string;
          SecretAccessKey: string;
          SessionToken: string;
          Expiration: string;
        };
        Provider: string;
        Audience: string;
      };
      expect(out.Credentials.AccessKeyId).toMatch(/^ASIA/);
      expect(out.Provider).toBe(bed.providerArn);
      const exchangeRecord = bed.sts.requests[0];
      expect(exchangeRecord?.headers.authorization).toBeUndefined();
      expect(exchangeRecord?.headers['content-type']).toBe(
        'application/x-www-form-urlencoded; charset=utf-8',
      );

      const identity = await runAwsCli(
        [
          'sts',
          'get-caller-identity',
          '--endpoint-url',
          bed.sts.url,
          '--region',
          'us-east-1',
          '--output',
          'json',
        ],
        {
          AWS_ACCESS_KEY_ID: out.Credentials.AccessKeyId,
          AWS_SECRET_ACCESS_KEY: out.Credentials.SecretAccessKey,
          AWS_SESSION_TOKEN: out.Credentials.SessionToken,
        },
      );
      expect(identity.exitCode, identity.stderr).toBe(0);
      expect(JSON.parse(identity.stdout)).toEqual({
        UserId: expect.stringMatching(new RegExp(`^AROA[A-Z0-9]{17}:${SESSION}$`)),
        Account: '123456789012',
        Arn: `arn:aws:sts::123456789012:assumed-role/gitlab-demo-group-demo-project/${SESSION}`,
      });
      expect(bed.sts.requests.at(-1)?.headers.authorization).toMatch(
        /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token/,
      );

      const wrongSecret = await runAwsCli(
        ['sts', 'get-caller-identity', '--endpoint-url', bed.sts.url, '--region', 'us-east-1'],
        {
          AWS_ACCESS_KEY_ID: out.Credentials.AccessKeyId,
          AWS_SECRET_ACCESS_KEY: 'x'.repeat(40),
          AWS_SESSION_TOKEN: out.Credentials.SessionToken,
        },
      );
      expect(wrongSecret.exitCode).not.toBe(0);
      expect(wrongSecret.stderr).toContain(
        '(SignatureDoesNotMatch) when calling the GetCallerIdentity operation',
      );
    });

    it('shows STS error codes and messages the way users will see them', async () => {
      const denied = await runAwsCli(cliArgs(await bed.mint({ project_path: 'demo-group/other' })));
      expect(denied.exitCode).not.toBe(0);
      expect(denied.stderr).toContain(
        'An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity',
      );
      const audience = await runAwsCli(cliArgs(await bed.mint({ aud: 'sts.amazonaws.com' })));
      expect(audience.stderr).toContain(
        '(InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation',
      );
      expect(audience.stderr).toContain('Incorrect token audience');
    });
  },
);

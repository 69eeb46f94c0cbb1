import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Issuer, startIssuer } from './issuer.js';

let issuer: Issuer;

beforeAll(async () => {
  issuer = await startIssuer();
});

afterEach(() => {
  issuer.setJwksFault('none');
  issuer.resetCounters();
});

afterAll(async () => {
  await issuer.stop();
});

async function fetchJwks(): Promise<{ keys: JWK[] }> {
  const response = await fetch(`${issuer.baseUrl}/oauth/discovery/keys`);
  expect(response.status).toBe(200);
  return (await response.json()) as { keys: JWK[] };
}

async function verify(token: string) {
  return jwtVerify(token, createLocalJWKSet(await fetchJwks()), {
    issuer: issuer.iss,
    algorithms: ['RS256'],
  });
}

describe('discovery and JWKS', () => {
  it('serves a GitLab-shaped discovery document naming the public issuer', async () => {
    const response = await fetch(`${issuer.baseUrl}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const document = (await response.json()) as Record<string, unknown>;
    expect(document).toMatchObject({
      issuer: 'https://gitlab.example.com',
      jwks_uri: 'https://gitlab.example.com/oauth/discovery/keys',
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(document.claims_supported).toEqual(expect.arrayContaining(['iss', 'sub', 'aud', 'exp', 'iat']));
    expect(issuer.discoveryFetches).toBe(1);
    expect(issuer.jwksFetches).toBe(0);
    expect(issuer.host).toBe('gitlab.example.com');
    expect(issuer.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('publishes public RSA keys whose kid is the RFC 7638 thumbprint', async () => {
    const { keys } = await fetchJwks();
    expect(keys).toHaveLength(1);
    const [key] = keys;
    expect(key).toEqual({
      kty: 'RSA',
      kid: issuer.currentKid,
      e: 'AQAB',
      n: expect.any(String),
      use: 'sig',
      alg: 'RS256',
    });
    expect(key?.kid).toBe(await calculateJwkThumbprint(key as JWK, 'sha256'));
    expect(issuer.jwksFetches).toBe(1);
  });

  it('answers 404 elsewhere', async () => {
    expect((await fetch(`${issuer.baseUrl}/oauth/token`)).status).toBe(404);
  });
});

describe('mint', () => {
  it('issues an RS256 token with exactly GitLab’s claims for the demo project', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await issuer.mint();
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: issuer.currentKid, typ: 'JWT' });
    expect(Object.keys(payload).sort()).toEqual(
      [
        'iss',
        'sub',
        'aud',
        'exp',
        'nbf',
        'iat',
        'jti',
        'namespace_id',
        'namespace_path',
        'project_id',
        'project_path',
        'user_id',
        'user_login',
        'user_email',
        'user_access_level',
        'pipeline_id',
        'pipeline_source',
        'job_id',
        'ref',
        'ref_type',
        'ref_path',
        'ref_protected',
        'runner_id',
        'runner_environment',
        'sha',
        'project_visibility',
        'ci_config_ref_uri',
        'ci_config_sha',
      ].sort(),
    );
    expect(payload).toMatchObject({
      iss: 'https://gitlab.example.com',
      sub: 'project_path:demo-group/demo-project:ref_type:branch:ref:main',
      aud: 'https://gitlab.example.com',
      namespace_path: 'demo-group',
      project_path: 'demo-group/demo-project',
      ref: 'main',
      ref_type: 'branch',
      ref_path: 'refs/heads/main',
      ref_protected: 'true',
      runner_environment: 'gitlab-hosted',
      ci_config_ref_uri: 'gitlab.example.com/demo-group/demo-project//.gitlab-ci.yml@refs/heads/main',
    });
    for (const claim of ['namespace_id', 'project_id', 'user_id', 'pipeline_id', 'job_id']) {
      expect(typeof payload[claim], claim).toBe('string');
    }
    expect(typeof payload.runner_id).toBe('number');
    expect(payload.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const iat = payload.iat ?? 0;
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(payload.nbf).toBe(iat - 5);
    expect(payload.exp).toBe(iat + 3600);
  });

  it('recomputes sub, ref_path and namespace_path from overridden project and ref', async () => {
    const token = await issuer.mint({ project_path: 'other-group/sub/app', ref: 'v1.2.0', ref_type: 'tag' });
    const { payload } = await verify(token);
    expect(payload).toMatchObject({
      sub: 'project_path:other-group/sub/app:ref_type:tag:ref:v1.2.0',
      ref_path: 'refs/tags/v1.2.0',
      namespace_path: 'other-group/sub',
    });
  });

  it('keeps an explicit sub and extra claims, and omits claims on request', async () => {
    const token = await issuer.mint(
      { sub: 'project_path:x/y:ref:main', ref: 'dev', environment: 'production' },
      { omit: ['jti', 'user_email'] },
    );
    const { payload } = await verify(token);
    expect(payload.sub).toBe('project_path:x/y:ref:main');
    expect(payload.environment).toBe('production');
    expect(payload).not.toHaveProperty('jti');
    expect(payload).not.toHaveProperty('user_email');
  });

  it('honours issuedAt, notBefore and expiresInSeconds', () => {
    const claims = issuer.claims(
      {},
      { issuedAt: 1_700_000_000, notBefore: 1_700_000_100, expiresInSeconds: 300 },
    );
    expect(claims).toMatchObject({ iat: 1_700_000_000, nbf: 1_700_000_100, exp: 1_700_000_300 });
  });

  it('can sign with a key the JWKS does not publish, or with HS256', async () => {
    const unknown = await issuer.mint({}, { signWith: 'unknown-key' });
    const unknownKid = decodeProtectedHeader(unknown).kid;
    expect(unknownKid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await fetchJwks()).keys.map((key) => key.kid)).not.toContain(unknownKid);
    await expect(verify(unknown)).rejects.toThrow();

    const hmac = await issuer.mint({}, { signWith: 'hs256' });
    expect(decodeProtectedHeader(hmac).alg).toBe('HS256');
    await expect(verify(hmac)).rejects.toThrow();

    const renamed = await issuer.mint({}, { kid: 'some-other-kid' });
    expect(decodeProtectedHeader(renamed).kid).toBe('some-other-kid');
  });
});

describe('key rotation and faults', () => {
  it('rotates keys keeping the old one published until retired', async () => {
    const local = await startIssuer({ issuer: 'https://gitlab.internal.example/gitlab' });
    try {
      expect(local.host).toBe('gitlab.internal.example/gitlab');
      const oldKid = local.currentKid;
      const oldToken = await local.mint();
      const newKid = await local.rotateKey();
      expect(newKid).not.toBe(oldKid);
      expect(local.currentKid).toBe(newKid);
      expect(decodeProtectedHeader(await local.mint()).kid).toBe(newKid);
      const keySet = createLocalJWKSet(local.jwks());
      await expect(jwtVerify(oldToken, keySet)).resolves.toBeDefined();
      expect(local.jwks().keys.map((key) => key.kid)).toEqual([oldKid, newKid]);
      await local.rotateKey({ retireOld: true });
      expect(local.jwks().keys).toHaveLength(1);
    } finally {
      await local.stop();
    }
  });

  it('answers 500, drops the connection or stalls on request, and recovers', async () => {
    issuer.setJwksFault('http500');
    expect((await fetch(`${issuer.baseUrl}/oauth/discovery/keys`)).status).toBe(500);

    issuer.setJwksFault('unavailable');
    await expect(fetch(`${issuer.baseUrl}/oauth/discovery/keys`)).rejects.toThrow();

    issuer.setJwksFault('slow', { delayMs: 300 });
    const started = Date.now();
    expect((await fetch(`${issuer.baseUrl}/oauth/discovery/keys`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    issuer.setJwksFault('none');
    await fetchJwks();
    expect(issuer.jwksFetches).toBe(4);
  });

  it('stops promptly even while a slow JWKS response is pending', async () => {
    const local = await startIssuer();
    local.setJwksFault('slow', { delayMs: 60_000 });
    const pending = fetch(`${local.baseUrl}/oauth/discovery/keys`);
    await vi.waitFor(() => expect(local.jwksFetches).toBe(1), { timeout: 30_000 });
    const started = Date.now();
    await local.stop();
    // Far below the 60 s stall: stop did not wait for it.
    expect(Date.now() - started).toBeLessThan(30_000);
    await expect(pending).rejects.toThrow();
    await expect(fetch(`${local.baseUrl}/.well-known/openid-configuration`)).rejects.toThrow();
  });
});

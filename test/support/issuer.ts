/**
 * A local OpenID Connect issuer that looks like a GitLab instance to STS: the same discovery
 * document and JWKS paths, RS256 keys whose `kid` is the RFC 7638 thumbprint, and ID tokens with
 * the claims GitLab 17/18 puts into `id_tokens`. Faults on the JWKS endpoint reproduce the
 * "Couldn't retrieve verification key" family of STS failures.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { startLoopbackServer } from './server.js';

/** The claims of a GitLab CI/CD ID token (`id_tokens:`), as of GitLab 17/18. */
export interface GitLabClaims {
  iss: string;
  /** `project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>` by default. */
  sub: string;
  aud: string | string[];
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  namespace_id: string;
  namespace_path: string;
  project_id: string;
  project_path: string;
  user_id: string;
  user_login: string;
  user_email: string;
  user_access_level: string;
  pipeline_id: string;
  pipeline_source: string;
  job_id: string;
  ref: string;
  ref_type: 'branch' | 'tag';
  ref_path: string;
  /** A string, not a boolean, in real tokens. */
  ref_protected: 'true' | 'false';
  runner_id: number;
  runner_environment: 'gitlab-hosted' | 'self-hosted';
  sha: string;
  project_visibility: 'private' | 'internal' | 'public';
  ci_config_ref_uri: string;
  ci_config_sha: string;
}

export interface MintOptions {
  /** Lifetime from `iat`; GitLab uses the job timeout. Default 3600. */
  expiresInSeconds?: number;
  /** Seconds since the epoch; default now. */
  issuedAt?: number;
  /** Seconds since the epoch; default `iat - 5` like GitLab. */
  notBefore?: number;
  /**
   * `current`: the newest published key. `unknown-key`: an RSA key the JWKS never lists.
   * `hs256`: a shared-secret HMAC signature, which STS does not accept.
   */
  signWith?: 'current' | 'unknown-key' | 'hs256';
  /** Overrides the header `kid`. */
  kid?: string;
  /** Claim names to leave out of the payload. */
  omit?: string[];
}

export type JwksFault = 'none' | 'unavailable' | 'slow' | 'http500';

export interface StartIssuerOptions {
  /** The `iss` value; default `https://gitlab.example.com`. */
  issuer?: string;
}

export interface Issuer {
  /** The `iss` claim, e.g. `https://gitlab.example.com`: the name STS knows the provider by. */
  readonly iss: string;
  /** `iss` without the scheme, the prefix of IAM condition keys (`gitlab.example.com:sub`). */
  readonly host: string;
  /** Where the server really listens, `http://127.0.0.1:PORT`; STS is told to fetch from here. */
  readonly baseUrl: string;
  /** `kid` of the key new tokens are signed with. */
  readonly currentKid: string;
  /** Requests served on `/.well-known/openid-configuration` since start or `resetCounters()`. */
  readonly discoveryFetches: number;
  /** Requests served on `/oauth/discovery/keys` (faulted ones included). */
  readonly jwksFetches: number;
  /** Signs an ID token: GitLab's default claims for `demo-group/demo-project` on `main`, then `claims`. */
  mint(claims?: Partial<GitLabClaims> & Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** The claims `mint` would put in a token, without signing; handy for expectations. */
  claims(
    claims?: Partial<GitLabClaims> & Record<string, unknown>,
    options?: MintOptions,
  ): Record<string, unknown>;
  /**
   * Adds a new signing key and makes it current; older keys stay published unless
   * `retireOld` is set, as GitLab keeps serving the previous key during rotation.
   */
  rotateKey(options?: { retireOld?: boolean }): Promise<string>;
  /** Makes the JWKS endpoint drop connections, stall (`delayMs`, default 6000) or answer 500. */
  setJwksFault(fault: JwksFault, options?: { delayMs?: number }): void;
  /** The public JWKS as served. */
  jwks(): { keys: JWK[] };
  resetCounters(): void;
  stop(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

const DEFAULT_ISSUER = 'https://gitlab.example.com';
const DEMO_PROJECT_PATH = 'demo-group/demo-project';
const DEMO_SHA = '5f2d4e8c1a9b7d3e6f0a2c4b8d1e3f5a7c9b0d2e';

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const exported = await exportJWK(publicKey);
  if (exported.e === undefined || exported.n === undefined) throw new Error('exported RSA key lacks e or n');
  const kid = await calculateJwkThumbprint(exported, 'sha256');
  // GitLab publishes kty, kid, e, n, use, alg; key order as in gitlab.com's JWKS.
  const publicJwk: JWK = { kty: 'RSA', kid, e: exported.e, n: exported.n, use: 'sig', alg: 'RS256' };
  return { kid, privateKey, publicJwk };
}

function hostOf(iss: string): string {
  return iss.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

function stringClaim(claims: Record<string, unknown>, name: string, fallback: string): string {
  const value = claims[name];
  return typeof value === 'string' ? value : fallback;
}

/**
 * GitLab's claims for a job, with `overrides` applied. Claims derived from others (`sub`,
 * `namespace_path`, `ref_path`, `ci_config_ref_uri`) follow overridden `project_path`, `ref` and
 * `ref_type` unless they are overridden themselves.
 */
function buildClaims(
  iss: string,
  overrides: Partial<GitLabClaims> & Record<string, unknown>,
  options: MintOptions,
): Record<string, unknown> {
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  const projectPath = stringClaim(overrides, 'project_path', DEMO_PROJECT_PATH);
  const ref = stringClaim(overrides, 'ref', 'main');
  const refType = stringClaim(overrides, 'ref_type', 'branch');
  const refPath = stringClaim(
    overrides,
    'ref_path',
    `${refType === 'tag' ? 'refs/tags' : 'refs/heads'}/${ref}`,
  );
  const slash = projectPath.lastIndexOf('/');
  const base: Record<string, unknown> = {
    namespace_id: '72',
    namespace_path: slash > 0 ? projectPath.slice(0, slash) : projectPath,
    project_id: '1342',
    project_path: projectPath,
    user_id: '481',
    user_login: 'demo-user',
    user_email: 'demo-user@example.com',
    user_access_level: 'developer',
    pipeline_id: '904517',
    pipeline_source: 'push',
    job_id: '6125834',
    ref,
    ref_type: refType,
    ref_path: refPath,
    ref_protected: 'true',
    runner_id: 31,
    runner_environment: 'gitlab-hosted',
    sha: DEMO_SHA,
    project_visibility: 'private',
    ci_config_ref_uri: `${hostOf(iss)}/${projectPath}//.gitlab-ci.yml@${refPath}`,
    ci_config_sha: DEMO_SHA,
    jti: randomUUID(),
    iss,
    iat,
    nbf: options.notBefore ?? iat - 5,
    exp: iat + (options.expiresInSeconds ?? 3600),
    sub: `project_path:${projectPath}:ref_type:${refType}:ref:${ref}`,
    aud: iss,
  };
  const claims: Record<string, unknown> = { ...base, ...overrides };
  for (const name of options.omit ?? []) delete claims[name];
  return claims;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'max-age=0, private, must-revalidate',
  });
  response.end(text);
}

/** Starts a GitLab-like OIDC issuer on 127.0.0.1 at a random port. */
export async function startIssuer(options: StartIssuerOptions = {}): Promise<Issuer> {
  const iss = (options.issuer ?? DEFAULT_ISSUER).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(iss)) {
    throw new Error(`startIssuer: issuer must be an absolute http(s) URL without query, got ${iss}`);
  }
  const keys: SigningKey[] = [await createSigningKey()];
  let unknownKey: SigningKey | undefined;
  const hmacSecret = randomBytes(32);
  let fault: JwksFault = 'none';
  let slowMs = 6000;
  let discoveryFetches = 0;
  let jwksFetches = 0;

  const current = (): SigningKey => {
    const key = keys[keys.length - 1];
    if (key === undefined) throw new Error('issuer has no signing key');
    return key;
  };
  const jwks = (): { keys: JWK[] } => ({ keys: keys.map((key) => ({ ...key.publicJwk })) });

  const discovery = () => ({
    issuer: iss,
    authorization_endpoint: `${iss}/oauth/authorize`,
    token_endpoint: `${iss}/oauth/token`,
    revocation_endpoint: `${iss}/oauth/revoke`,
    introspection_endpoint: `${iss}/oauth/introspect`,
    userinfo_endpoint: `${iss}/oauth/userinfo`,
    jwks_uri: `${iss}/oauth/discovery/keys`,
    scopes_supported: ['api', 'read_api', 'read_user', 'read_repository', 'openid', 'profile', 'email'],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    grant_types_supported: ['authorization_code', 'password', 'client_credentials', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    claim_types_supported: ['normal'],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'sub_legacy',
      'name',
      'nickname',
      'preferred_username',
      'email',
      'email_verified',
      'website',
      'profile',
      'picture',
      'groups',
      'groups_direct',
    ],
    code_challenge_methods_supported: ['plain', 'S256'],
  });

  const server = await startLoopbackServer(async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendJson(response, 404, { error: '404 Not Found' });
      return;
    }
    if (path === '/.well-known/openid-configuration') {
      discoveryFetches += 1;
      sendJson(response, 200, discovery());
      return;
    }
    if (path === '/oauth/discovery/keys') {
      jwksFetches += 1;
      switch (fault) {
        case 'unavailable':
          request.socket.destroy();
          return;
        case 'http500':
          sendJson(response, 500, { message: '500 Internal Server Error' });
          return;
        case 'slow':
          if (!(await server.delay(slowMs))) return;
          break;
        case 'none':
          break;
      }
      sendJson(response, 200, jwks());
      return;
    }
    sendJson(response, 404, { error: '404 Not Found' });
  });

  const sign = async (payload: Record<string, unknown>, mintOptions: MintOptions): Promise<string> => {
    const signWith = mintOptions.signWith ?? 'current';
    if (signWith === 'hs256') {
      return new SignJWT(payload)
        .setProtectedHeader({ kid: mintOptions.kid ?? current().kid, typ: 'JWT', alg: 'HS256' })
        .sign(hmacSecret);
    }
    let key = current();
    if (signWith === 'unknown-key') {
      unknownKey ??= await createSigningKey();
      key = unknownKey;
    }
    return new SignJWT(payload)
      .setProtectedHeader({ kid: mintOptions.kid ?? key.kid, typ: 'JWT', alg: 'RS256' })
      .sign(key.privateKey);
  };

  return {
    iss,
    host: hostOf(iss),
    baseUrl: server.baseUrl,
    get currentKid() {
      return current().kid;
    },
    get discoveryFetches() {
      return discoveryFetches;
    },
    get jwksFetches() {
      return jwksFetches;
    },
    claims: (claims = {}, mintOptions = {}) => buildClaims(iss, claims, mintOptions),
    mint: (claims = {}, mintOptions = {}) => sign(buildClaims(iss, claims, mintOptions), mintOptions),
    async rotateKey(rotateOptions = {}) {
      const key = await createSigningKey();
      if (rotateOptions.retireOld === true) keys.length = 0;
      keys.push(key);
      return key.kid;
    },
    setJwksFault(next, faultOptions = {}) {
      fault = next;
      slowMs = faultOptions.delayMs ?? 6000;
    },
    jwks,
    resetCounters() {
      discoveryFetches = 0;
      jwksFetches = 0;
    },
    stop: () => server.stop(),
  };
}

/**
 * The standard test bed: a GitLab-like issuer, an STS emulator that trusts it, and one role for
 * `demo-group/demo-project` on `main`. Used by end-to-end tests and by `npm run demo`, so it must
 * not import vitest.
 */
import { type GitLabClaims, type Issuer, type MintOptions, startIssuer } from './issuer.js';
import { type RoleRef, type StartStsOptions, type StsEmulator, startSts } from './sts.js';

export const DEMO_ACCOUNT_ID = '123456789012';
const BUSY_MACHINE_IDP_TIMEOUT_MS = 120_000;
export const DEMO_ROLE_NAME = 'gitlab-demo-group-demo-project';
export const DEMO_SUB = 'project_path:demo-group/demo-project:ref_type:branch:ref:main';

export interface TestBed {
  issuer: Issuer;
  sts: StsEmulator;
  accountId: string;
  roleArn: string;
  providerArn: string;
  /** Another role in the demo account that trusts the demo project on `main`, like the demo role. */
  addDemoRole(roleName: string, maxSessionDuration?: number): RoleRef;
  /** `issuer.mint`: a token the role trusts unless the claims say otherwise. */
  mint(claims?: Partial<GitLabClaims> & Record<string, unknown>, options?: MintOptions): Promise<string>;
  stop(): Promise<void>;
}

export interface StartTestBedOptions {
  sts?: StartStsOptions;
  /** The `iss` value; default `https://gitlab.example.com`. */
  issuer?: string;
}

/** Starts issuer and STS, registers the provider and the demo role; `stop()` ends both. */
export async function startTestBed(options: StartTestBedOptions = {}): Promise<TestBed> {
  const issuer = await startIssuer(options.issuer === undefined ? {} : { issuer: options.issuer });
  let sts: StsEmulator;
  try {
    // Real STS gives the issuer about 5 s; on a busy test machine the issuer in this very process may
    // answer later, which would fail (and retry) exchanges that tests count. Tests of that budget
    // set idpTimeoutMs themselves.
    sts = await startSts({ idpTimeoutMs: BUSY_MACHINE_IDP_TIMEOUT_MS, ...options.sts });
  } catch (error) {
    await issuer.stop();
    throw error;
  }
  const providerArn = sts.addOidcProvider({
    accountId: DEMO_ACCOUNT_ID,
    url: issuer.iss,
    clientIds: [issuer.iss],
    fetchBaseUrl: issuer.baseUrl,
  });
  const addDemoRole = (roleName: string, maxSessionDuration = 3600): RoleRef =>
    sts.addRole({
      accountId: DEMO_ACCOUNT_ID,
      roleName,
      maxSessionDuration,
      trustPolicy: sts.trustPolicyFor({
        providerArn,
        providerHost: issuer.host,
        sub: DEMO_SUB,
        aud: issuer.iss,
      }),
    });
  const { arn: roleArn } = addDemoRole(DEMO_ROLE_NAME, 43200);
  return {
    addDemoRole,
    issuer,
    sts,
    accountId: DEMO_ACCOUNT_ID,
    roleArn,
    providerArn,
    mint: (claims, mintOptions) => issuer.mint(claims, mintOptions),
    async stop() {
      await Promise.all([sts.stop(), issuer.stop()]);
    },
  };
}

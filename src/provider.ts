/**
 * A credential provider for the AWS SDK for JavaScript v3: `credentials: fromGitLabIdToken()` in any
 * client's configuration. It resolves the same settings as the command line (options named like the
 * option table's keys, then the job's variables, then the defaults), shares the encrypted cache
 * with the command line, and lets concurrent callers share one exchange.
 */

import type { OptionKey } from './config/options.js';
import { type FlagValues, resolveSettings } from './config/resolve.js';
import type { AwsCredentials } from './credentials.js';
import type { Environment } from './environment.js';
import { cacheForSettings, obtainCredentials } from './obtain.js';
import { PROGRAM_NAME } from './version.js';

/** The settings a provider takes: each as its flag would, e.g. `{ awsAccount: '123456789012' }`. */
const PROVIDER_SETTINGS = [
  'awsAccount',
  'roleName',
  'roleSessionName',
  'webIdentityTokenName',
  'webIdentityTokenFile',
  'durationSeconds',
  'region',
  'endpointUrl',
  'cache',
  'cacheRefreshWindow',
  'maxAttempts',
  'timeout',
] as const satisfies readonly OptionKey[];

export type ProviderSettingKey = (typeof PROVIDER_SETTINGS)[number];

export interface GitLabIdTokenProviderOptions
  extends Partial<Record<ProviderSettingKey, string | number | boolean>> {
  /** Where the job's variables are read; `process.env` at each call when left out. */
  readonly env?: Environment;
  /** Told what the command line's `--debug` prints (never a secret). */
  readonly debug?: (line: string) => void;
  /** Told the warnings the command line prints on stderr; `process.emitWarning` when left out. */
  readonly warn?: (line: string) => void;
}

/** The credentials with the role's account, always known here (`AwsCredentialIdentity` of @smithy/types). */
export type ProvidedCredentials = AwsCredentials & { readonly accountId: string };

/** What the SDK's `credentials:` takes. */
export type GitLabIdTokenProvider = () => Promise<ProvidedCredentials>;

/**
 * The SDK refreshes credentials that expire within 5 minutes; a set kept here is handed out again only
 * while it lasts longer than that, so a client never receives a set it would refresh at once.
 */
const REUSE_MARGIN_MS = 5 * 60_000;

function flagValues(options: GitLabIdTokenProviderOptions): FlagValues {
  const flags: Record<string, string | boolean> = {};
  for (const key of PROVIDER_SETTINGS) {
    const value = options[key];
    if (value !== undefined) flags[key] = typeof value === 'number' ? String(value) : value;
  }
  return flags;
}

async function obtainIdentity(options: GitLabIdTokenProviderOptions): Promise<ProvidedCredentials> {
  const env = options.env ?? { ...process.env };
  const settings = resolveSettings('process', flagValues(options), env);
  const log = options.debug ?? (() => {});
  const warn =
    options.warn ?? ((line: string) => process.emitWarning(line, { code: PROGRAM_NAME.toUpperCase() }));
  const cache = cacheForSettings(settings, { env, log, warn });
  const { credentials } = await obtainCredentials(settings, { env, log, warn, cache });
  return { ...credentials, accountId: settings.accountId };
}

/**
 * Hands out one set to every caller while it lasts longer than the reuse margin; callers that ask
 * while an exchange is under way share it; a failure is not kept.
 */
export function reusingProvider(
  obtain: () => Promise<ProvidedCredentials>,
  now: () => number = Date.now,
): GitLabIdTokenProvider {
  let current: Promise<ProvidedCredentials> | undefined;
  let expiresAt: number | undefined;
  return () => {
    if (current !== undefined && (expiresAt === undefined || expiresAt - now() > REUSE_MARGIN_MS))
      return current;
    const attempt = obtain();
    current = attempt;
    expiresAt = undefined;
    attempt.then(
      (identity) => {
        if (current === attempt) expiresAt = identity.expiration.getTime();
      },
      () => {
        if (current === attempt) current = undefined;
      },
    );
    return attempt;
  };
}

/**
 * `new S3Client({ credentials: fromGitLabIdToken() })`: credentials of the role the job's ID token may
 * assume. Settings are checked on the first call; every failure is a HelperError whose message names
 * the cause and whose hint names the fix.
 */
export function fromGitLabIdToken(options: GitLabIdTokenProviderOptions = {}): GitLabIdTokenProvider {
  return reusingProvider(() => obtainIdentity(options));
}

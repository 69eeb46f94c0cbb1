/** The library API of gitlab-aws-credential-helper. */

/** The encrypted credential cache shared between processes, and emptying it. */
export type { CacheResult, CredentialCache } from './cache/credential-cache.js';
export { type ClearCacheOptions, clearCache } from './cache/directory.js';
export { createFileCache, type FileCacheOptions } from './cache/store.js';
/** Option table: every setting with its flag, environment variables and default. */
export { OPTIONS, type OptionSpec, renderOptionsMarkdown } from './config/options.js';
/** Resolves flags and environment into validated settings (pure). */
export { type FlagValues, resolveSettings, type Settings } from './config/resolve.js';
/** Temporary credentials and the assumed role. */
export type { AssumedRole, AwsCredentials } from './credentials.js';
/** The environment a call reads (a snapshot of `process.env`). */
export type { Environment } from './environment.js';
/** The error type every failure is reported with. */
export { HelperError, isHelperError, type TokenSummary } from './errors.js';
/** Reads the token and returns credentials (cache, then STS). */
export {
  type ObtainDependencies,
  type ObtainResult,
  obtainCredentials,
} from './obtain.js';
/** Output formats as pure functions. */
export { formatCredentialProcessJson, formatEnvLines } from './output/formats.js';
/** Evaluates an IAM role trust policy as STS does for AssumeRoleWithWebIdentity, with explanations. */
export {
  type ConditionResult,
  evaluateTrustPolicy,
  parseTrustPolicy,
  type StatementResult,
  type TrustDecision,
  type TrustPolicy,
  type TrustRequest,
} from './policy/trust.js';
/** A credential provider for the AWS SDK for JavaScript v3: `credentials: fromGitLabIdToken()`. */
export {
  fromGitLabIdToken,
  type GitLabIdTokenProvider,
  type GitLabIdTokenProviderOptions,
  type ProvidedCredentials,
  type ProviderSettingKey,
} from './provider.js';
/** The STS exchange, behind one function. */
export { exchangeWebIdentityToken, type WebIdentityExchange } from './sts/exchange.js';
/** Reads a GitLab ID token's claims without verifying it. */
export { decodeTokenClaims, type TokenClaims } from './token/claims.js';

/**
 * One error type for everything the helper reports to a user. The CLI turns it into a single
 * line on stderr (`message` then `hint`) and an exit code; library callers get the same fields.
 */

/** Claims worth showing when a role refuses a token; never the token itself. */
export interface TokenSummary {
  readonly iss?: string | undefined;
  readonly sub?: string | undefined;
  readonly aud?: string | readonly string[] | undefined;
  readonly exp?: number | undefined;
}

/** Where a failure came from; decides the exit code and helps callers branch without parsing text. */
export type ErrorOrigin = 'config' | 'token' | 'sts' | 'network' | 'file' | 'process' | 'internal';

export interface HelperErrorInit {
  /** Stable machine-readable code, e.g. `MissingAccount`, `AccessDenied`, `CredentialsFileSymlink`. */
  readonly code: string;
  readonly message: string;
  /** The exact next step for the user. */
  readonly hint?: string | undefined;
  readonly cause?: unknown;
  readonly token?: TokenSummary | undefined;
  /** STS request id, kept so users can quote it to AWS support. */
  readonly requestId?: string | undefined;
  readonly httpStatus?: number | undefined;
  /** True when the same call may succeed if repeated (throttling, 5xx, network). */
  readonly retryable?: boolean | undefined;
}

/**
 * Brands a HelperError so that it is recognised across separately bundled files: the npm form loads
 * rarely used commands (doctor, role-template) from files of their own, with their own copy of this
 * class.
 */
const HELPER_ERROR = Symbol.for('gitlab-aws-credential-helper.HelperError');

export class HelperError extends Error {
  readonly [HELPER_ERROR] = true;
  readonly code: string;
  readonly origin: ErrorOrigin;
  readonly hint: string | undefined;
  readonly token: TokenSummary | undefined;
  readonly requestId: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;

  constructor(origin: ErrorOrigin, init: HelperErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'HelperError';
    this.origin = origin;
    this.code = init.code;
    this.hint = init.hint;
    this.token = init.token;
    this.requestId = init.requestId;
    this.httpStatus = init.httpStatus;
    this.retryable = init.retryable ?? false;
  }
}

export class ConfigError extends HelperError {
  constructor(init: HelperErrorInit) {
    super('config', init);
    this.name = 'ConfigError';
  }
}

export class TokenError extends HelperError {
  constructor(init: HelperErrorInit) {
    super('token', init);
    this.name = 'TokenError';
  }
}

export class StsError extends HelperError {
  constructor(init: HelperErrorInit) {
    super('sts', init);
    this.name = 'StsError';
  }
}

export class NetworkError extends HelperError {
  constructor(init: HelperErrorInit) {
    super('network', init);
    this.name = 'NetworkError';
  }
}

export class FileError extends HelperError {
  constructor(init: HelperErrorInit) {
    super('file', init);
    this.name = 'FileError';
  }
}

/** A new error of the class that belongs to `origin`, so that `instanceof` keeps working. */
export function helperError(origin: ErrorOrigin, init: HelperErrorInit): HelperError {
  switch (origin) {
    case 'config':
      return new ConfigError(init);
    case 'token':
      return new TokenError(init);
    case 'sts':
      return new StsError(init);
    case 'network':
      return new NetworkError(init);
    case 'file':
      return new FileError(init);
    default:
      return new HelperError(origin, init);
  }
}

export function isHelperError(value: unknown): value is HelperError {
  return (
    value instanceof HelperError || (typeof value === 'object' && value !== null && HELPER_ERROR in value)
  );
}

/** The `code` of a Node.js system error (`ENOENT`, `EBUSY`, …) or of a library error that copies it. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** What a caught value says, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

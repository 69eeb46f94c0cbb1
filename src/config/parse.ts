/**
 * Strict scalar parsers. Each takes the raw text and the name of where it came from (a flag or an
 * environment variable) so that the error says exactly which input to fix.
 */
import { isValidRoleName, isValidSessionName } from '../aws/names.js';
import { isValidRegion, type ParsedRoleArn, parseRoleArn } from '../aws/partitions.js';
import { ConfigError } from '../errors.js';
import { sectionNameProblem } from '../output/ini.js';

export type Parser<T> = (raw: string, source: string) => T;

function invalid(source: string, expected: string, raw: string, hint: string): ConfigError {
  return new ConfigError({
    code: 'InvalidValue',
    message: `${source}: expected ${expected}, got ${JSON.stringify(raw)}`,
    hint,
  });
}

export function parseIntegerInRange(min: number, max: number, hint: string): Parser<number> {
  return (raw, source) => {
    const text = raw.trim();
    if (!/^\d+$/.test(text)) throw invalid(source, `a whole number from ${min} to ${max}`, raw, hint);
    const value = Number(text);
    if (value < min || value > max) throw invalid(source, `a whole number from ${min} to ${max}`, raw, hint);
    return value;
  };
}

export const parseBoolean: Parser<boolean> = (raw, source) => {
  const text = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off', ''].includes(text)) return false;
  throw invalid(source, 'true or false', raw, `set ${source} to true or false`);
};

export const parseAccountId: Parser<string> = (raw, source) => {
  const text = raw.trim();
  if (/^\d{12}$/.test(text)) return text;
  throw invalid(
    source,
    'a 12-digit AWS account id',
    raw,
    'use the account id as the AWS console shows it, e.g. 123456789012 (keep leading zeros; quote it in YAML)',
  );
};

export const parseNonEmpty =
  (what: string, hint: string): Parser<string> =>
  (raw, source) => {
    const text = raw.trim();
    if (text === '') throw invalid(source, what, raw, hint);
    return text;
  };

export const parseEnvVarName: Parser<string> = (raw, source) => {
  const text = raw.trim();
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return text;
  throw invalid(
    source,
    'the name of an environment variable (letters, digits, _)',
    raw,
    'give the name of the `id_tokens:` variable, e.g. GITLAB_AWS_IDENTITY_TOKEN, not its value',
  );
};

export const parseUrl: Parser<string> = (raw, source) => {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(source, 'an http(s) URL', raw, 'give a URL such as https://sts.eu-west-1.amazonaws.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid(source, 'an http(s) URL', raw, 'give a URL such as https://sts.eu-west-1.amazonaws.com');
  }
  return text;
};

/** A value shaped like a JWT: a token given where a name belongs must never be echoed or stored. */
export function looksLikeJwt(text: string): boolean {
  return /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(text.trim());
}

/**
 * A section name of the shared credentials file that every reader reads back as written (see
 * `sectionNameProblem`); the file has no `profile ` prefix, unlike the config file.
 */
export const parseProfileName: Parser<string> = (raw, source) => {
  const text = raw.trim();
  if (looksLikeJwt(text)) {
    throw new ConfigError({
      code: 'InvalidValue',
      message: `${source}: expected a profile name, got what looks like a token`,
      hint: 'give the profile a name such as production; the token comes from the id_tokens: variable',
    });
  }
  const problem = /^profile\s/.test(text)
    ? 'must not start with "profile " in the credentials file'
    : sectionNameProblem(text);
  if (problem === undefined) return text;
  throw invalid(
    source,
    `a profile name (it ${problem})`,
    raw,
    'use a plain name of letters, digits and -_.@+=, such as production',
  );
};

/** A file path: any non-empty text; what the file must be is checked when it is opened. */
export const parseFilePath =
  (hint: string): Parser<string> =>
  (raw, source) =>
    parseNonEmpty('a file path', hint)(raw, source);

export const parseRegion: Parser<string> = (raw, source) => {
  const text = raw.trim();
  if (isValidRegion(text)) return text;
  throw new ConfigError({
    code: 'InvalidRegion',
    message: `${source}: expected an AWS region such as eu-west-1, got ${JSON.stringify(raw)}`,
    hint: 'use a region code (eu-west-1, us-gov-west-1, cn-north-1), not a name or an availability zone',
  });
};

export const parseSessionName: Parser<string> = (raw, source) => {
  const text = raw.trim();
  if (isValidSessionName(text)) return text;
  throw new ConfigError({
    code: 'InvalidRoleSessionName',
    message: `${source}: expected 2 to 64 characters from [A-Za-z0-9+=,.@_-], got ${JSON.stringify(raw)}`,
    hint: 'leave it unset to get <role name>-$CI_PIPELINE_ID, or use only letters, digits and +=,.@_-',
  });
};

/** A role as given: a full role ARN, or a name with an optional path (`ci/deployer`). */
export type RoleGiven =
  | { readonly kind: 'arn'; readonly arn: string; readonly parsed: ParsedRoleArn }
  | { readonly kind: 'name'; readonly nameWithPath: string; readonly name: string };

export const parseRoleNameOrArn: Parser<RoleGiven> = (raw, source) => {
  const text = raw.trim();
  if (text.startsWith('arn:')) {
    const parsed = parseRoleArn(text);
    if (parsed !== undefined) return { kind: 'arn', arn: text, parsed };
    throw new ConfigError({
      code: 'InvalidRoleArn',
      message: `${source}: expected a role ARN like arn:aws:iam::123456789012:role/name, got ${JSON.stringify(raw)}`,
      hint: 'copy the role ARN from the IAM console, or give only the role name with --aws-account',
    });
  }
  const nameWithPath = text.replace(/^\/+/, '');
  const name = nameWithPath.slice(nameWithPath.lastIndexOf('/') + 1);
  const path = nameWithPath.slice(0, nameWithPath.lastIndexOf('/') + 1);
  if (isValidRoleName(name) && /^[\u0021-\u007e]*$/.test(path)) return { kind: 'name', nameWithPath, name };
  throw new ConfigError({
    code: 'InvalidRoleName',
    message: `${source}: expected an IAM role name of 1 to 64 characters from [A-Za-z0-9+=,.@_-], optionally after a path like ci/, got ${JSON.stringify(raw)}`,
    hint: 'use the role name as IAM shows it, or a full role ARN',
  });
};

/** What `--ref-type` may be: the ref kind a role-template trusts. */
export type RefType = 'branch' | 'tag' | 'any';
/** What `role-template --format` writes. */
export type TemplateFormat = 'cloudformation' | 'terraform';

const PROJECT_PATH = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$/;
/** A host name, optionally with a path, as IAM names an OIDC provider (no scheme, port or query). */
const PROVIDER_HOST =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(\/[A-Za-z0-9._~-]+)*$/;
/**
 * What a ref or an audience may hold: IAM policy characters (printable Latin-1), without the ones
 * CloudFormation's !Sub or HCL templates would read as syntax (`$ % { } " \`) and without spaces.
 */
const SAFE_VALUE = /^[\u0021-\u007e\u00a1-\u00ff]+$/;
const UNSAFE_CHARACTERS = /[$%{}"\\`]/;

export const parseProjectPath: Parser<string> = (raw, source) => {
  const text = raw.trim().replace(/\/+$/, '');
  if (PROJECT_PATH.test(text)) return text;
  throw invalid(
    source,
    'a GitLab project path like my-group/my-project',
    raw,
    'give the path as in the project URL, without the host',
  );
};

export const parseProviderHost: Parser<string> = (raw, source) => {
  const text = raw.trim();
  if (PROVIDER_HOST.test(text)) return text;
  throw invalid(
    source,
    'the issuer host without https://, port or trailing slash, like gitlab.example.com',
    raw,
    'give the token’s iss without https:// (doctor shows it)',
  );
};

/** A value a role template quotes as it is (a ref, an audience): see SAFE_VALUE. */
export const parsePolicyText =
  (what: string): Parser<string> =>
  (raw, source) => {
    const text = raw.trim();
    if (SAFE_VALUE.test(text) && !UNSAFE_CHARACTERS.test(text)) return text;
    throw invalid(
      source,
      `${what} of printable characters without spaces or $ % { } " \\ \``,
      raw,
      `give the ${what} as GitLab shows it; policies cannot hold those characters literally here`,
    );
  };

export const parseRefType: Parser<RefType> = (raw, source) => {
  const text = raw.trim();
  if (text === 'branch' || text === 'tag' || text === 'any') return text;
  throw invalid(source, 'branch, tag or any', raw, 'use --ref-type branch, tag or any');
};

/** `--format`: which formats a command takes is the command's to check (doctor: text, json). */
export const parseFormat: Parser<TemplateFormat | 'text' | 'json'> = (raw, source) => {
  const text = raw.trim();
  if (text === 'text' || text === 'json' || text === 'cloudformation' || text === 'terraform') return text;
  throw invalid(
    source,
    'text or json (doctor), cloudformation or terraform (role-template)',
    raw,
    'use --format json for doctor, --format terraform for role-template',
  );
};

/**
 * Strict scalar parsers. Each takes the raw text and the name of where it came from (a flag or an
 * environment variable) so that the error says exactly which input to fix.
 */
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

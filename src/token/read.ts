/** Reads the ID token from the job's environment or from a file. */
import type { Environment } from '../environment.js';
import { isHelperError, TokenError } from '../errors.js';
import { readTextFileIfExists } from '../platform/files.js';
import { PROGRAM_NAME } from '../version.js';

/** Where the ID token is read from: the job's `id_tokens:` variable, or a file. */
export type TokenSource =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string };

export function describeTokenSource(source: TokenSource): string {
  return source.kind === 'env' ? source.name : `token file ${source.path}`;
}

export async function readToken(source: TokenSource, env: Environment): Promise<string> {
  if (source.kind === 'file') {
    const hint =
      'check --web-identity-token-file / GITLAB_AWS_IDENTITY_TOKEN_FILE, or use the id_tokens: variable directly';
    let text: string | undefined;
    try {
      // A regular file only: a FIFO or a device would block or never end.
      text = await readTextFileIfExists(source.path);
    } catch (error) {
      throw new TokenError({
        code: 'TokenFileUnreadable',
        message: `cannot read the token file: ${isHelperError(error) ? error.message : String(error)}`,
        hint,
        cause: error,
      });
    }
    if (text === undefined) {
      throw new TokenError({
        code: 'TokenFileUnreadable',
        message: `cannot read the token file ${source.path} (ENOENT: it does not exist)`,
        hint,
      });
    }
    const token = text.trim();
    if (token === '') {
      throw new TokenError({
        code: 'MissingToken',
        message: `the token file ${source.path} is empty`,
        hint: 'write the ID token into the file, or use the id_tokens: variable directly',
      });
    }
    return token;
  }
  const value = env[source.name];
  if (value === undefined || value.trim() === '') {
    throw new TokenError({
      code: 'MissingToken',
      message: `no ID token: the variable ${source.name} is ${value === undefined ? 'not set' : 'empty'}`,
      hint: `add to the job: \`id_tokens: { ${source.name}: { aud: https://gitlab.com } }\` (your GitLab URL as aud), or name the variable with -j/--web-identity-token-name (\`${PROGRAM_NAME} doctor\` lists the variables that hold tokens)`,
    });
  }
  return value.trim();
}

/**
 * Where the cache lives. Pure: environment, working directory, home, temp dir and user are inputs.
 *
 * Rule:
 * 1. `$XDG_CACHE_HOME/gitlab-aws-credential-helper` when XDG_CACHE_HOME is an absolute path (the
 *    XDG spec says to ignore relative ones), else `$HOME/.cache/gitlab-aws-credential-helper`.
 * 2. Never inside the project: if that directory is inside `CI_PROJECT_DIR`, or inside the working
 *    directory, the cache goes to `<tmpdir>/gitlab-aws-credential-helper-<user>` instead. A project
 *    directory is what CI uploads as artifacts or `cache:`, and what people commit; encrypted or
 *    not, credentials have no business there. Falling back (rather than disabling) keeps jobs whose
 *    HOME is the build directory from calling STS for every `aws` command.
 *    The working-directory test is skipped when the working directory is HOME itself or the
 *    filesystem root: running `aws` from `~` or `/` is ordinary, and every cache is "inside" those.
 * 3. If the temp-directory fallback is inside the project too (TMPDIR set to the build directory),
 *    the cache is disabled; credentials still come from STS.
 *
 * The caller checks that the chosen directory is a real directory owned by the user, since a
 * shared temp directory is writable by others.
 */
import { isAbsolute, parse, relative, resolve, sep } from 'node:path';
import type { Environment } from '../environment.js';
import { nonEmpty } from '../text.js';

const CACHE_DIRECTORY_NAME = 'gitlab-aws-credential-helper';

export interface CacheLocationInput {
  readonly env: Environment;
  readonly cwd: string;
  /** The OS's idea of the home directory, used when HOME is not set. */
  readonly homedir: string | undefined;
  readonly tmpdir: string;
  /** Distinguishes users sharing one temp directory (the uid on POSIX). */
  readonly user: string;
}

export type CacheLocation =
  | { readonly kind: 'directory'; readonly path: string; readonly fallback: false }
  | { readonly kind: 'directory'; readonly path: string; readonly fallback: true; readonly reason: string }
  | { readonly kind: 'disabled'; readonly reason: string };

/**
 * Resolves the cache directory by the rule in the module doc. `canonical` maps a path to the one
 * the filesystem would reach (symlinks resolved); paths count as inside a project when they are,
 * lexically or canonically.
 */
export function resolveCacheLocation(
  input: CacheLocationInput,
  canonical: (path: string) => string = (path) => path,
): CacheLocation {
  const { env } = input;
  const home = homeOf(input);
  const cwd = resolve(input.cwd);
  const forbidden: { readonly path: string; readonly name: string }[] = [];
  const projectDir = nonEmpty(env.CI_PROJECT_DIR);
  if (projectDir !== undefined && isAbsolute(projectDir)) {
    forbidden.push({ path: resolve(projectDir), name: `CI_PROJECT_DIR (${projectDir})` });
  }
  const cwdIsOrdinary =
    cwd === parse(cwd).root || (home !== undefined && samePath(cwd, resolve(home), canonical));
  if (!cwdIsOrdinary) forbidden.push({ path: cwd, name: `the working directory (${cwd})` });

  const violation = (candidate: string): string | undefined =>
    forbidden.find((root) => isInside(candidate, root.path, canonical))?.name;

  const configured = configuredCacheDirectory(input);
  let reason: string;
  if (configured === undefined) {
    reason = 'neither XDG_CACHE_HOME nor HOME is set';
  } else {
    const inside = violation(configured);
    if (inside === undefined) return { kind: 'directory', path: configured, fallback: false };
    reason = `${configured} is inside ${inside}`;
  }

  const fallback = fallbackCacheDirectory(input);
  const inside = violation(fallback);
  if (inside === undefined) return { kind: 'directory', path: fallback, fallback: true, reason };
  return {
    kind: 'disabled',
    reason: `${reason}, and the temp-directory fallback ${fallback} is inside ${inside}`,
  };
}

/** The directory the XDG rules name, wherever it is; undefined without XDG_CACHE_HOME and HOME. */
export function configuredCacheDirectory(
  input: Pick<CacheLocationInput, 'env' | 'homedir'>,
): string | undefined {
  const xdg = nonEmpty(input.env.XDG_CACHE_HOME);
  if (xdg !== undefined && isAbsolute(xdg)) return resolve(xdg, CACHE_DIRECTORY_NAME);
  const home = homeOf(input);
  return home === undefined ? undefined : resolve(home, '.cache', CACHE_DIRECTORY_NAME);
}

/** The per-user directory under the temp directory used when the configured one is not allowed. */
export function fallbackCacheDirectory(input: Pick<CacheLocationInput, 'tmpdir' | 'user'>): string {
  return resolve(input.tmpdir, `${CACHE_DIRECTORY_NAME}-${input.user}`);
}

function homeOf(input: Pick<CacheLocationInput, 'env' | 'homedir'>): string | undefined {
  const home = nonEmpty(input.env.HOME) ?? nonEmpty(input.env.USERPROFILE) ?? nonEmpty(input.homedir);
  // A relative HOME would make the location depend on the working directory; treat it as unset.
  return home !== undefined && isAbsolute(home) ? home : undefined;
}

/** True when `child` is `parent` or below it. */
function isInsideLexically(child: string, parent: string): boolean {
  const path = relative(parent, child);
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}

function isInside(child: string, parent: string, canonical: (path: string) => string): boolean {
  return isInsideLexically(child, parent) || isInsideLexically(canonical(child), canonical(parent));
}

function samePath(a: string, b: string, canonical: (path: string) => string): boolean {
  return relative(a, b) === '' || relative(canonical(a), canonical(b)) === '';
}

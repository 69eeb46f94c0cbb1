import { describe, expect, it } from 'vitest';
import { type CacheLocationInput, resolveCacheLocation } from './location.js';

const BASE: CacheLocationInput = {
  env: { HOME: '/home/dev' },
  cwd: '/home/dev/work/project',
  homedir: '/home/os-home',
  tmpdir: '/tmp',
  user: '1000',
};

const DIR = (path: string) => ({ kind: 'directory', path, fallback: false });
const FALLBACK = { kind: 'directory', path: '/tmp/gitlab-aws-credential-helper-1000', fallback: true };

describe('resolveCacheLocation', () => {
  it.each<[string, Partial<CacheLocationInput>, object]>([
    ['HOME', {}, DIR('/home/dev/.cache/gitlab-aws-credential-helper')],
    [
      'XDG_CACHE_HOME',
      { env: { HOME: '/home/dev', XDG_CACHE_HOME: '/var/cache/dev' } },
      DIR('/var/cache/dev/gitlab-aws-credential-helper'),
    ],
    [
      'a relative XDG_CACHE_HOME is ignored',
      { env: { HOME: '/home/dev', XDG_CACHE_HOME: 'cache' } },
      DIR('/home/dev/.cache/gitlab-aws-credential-helper'),
    ],
    [
      'USERPROFILE without HOME',
      { env: { USERPROFILE: '/users/dev' } },
      DIR('/users/dev/.cache/gitlab-aws-credential-helper'),
    ],
    ['the OS home without HOME', { env: {} }, DIR('/home/os-home/.cache/gitlab-aws-credential-helper')],
    ['no home at all', { env: {}, homedir: undefined }, FALLBACK],
    ['a relative HOME counts as none', { env: { HOME: 'dev' }, homedir: undefined }, FALLBACK],
    ['cwd is HOME', { cwd: '/home/dev' }, DIR('/home/dev/.cache/gitlab-aws-credential-helper')],
    ['cwd is the root', { cwd: '/' }, DIR('/home/dev/.cache/gitlab-aws-credential-helper')],
    [
      'HOME inside the working directory',
      { env: { HOME: '/builds/g/p/.home' }, cwd: '/builds/g/p' },
      FALLBACK,
    ],
    [
      'HOME inside CI_PROJECT_DIR',
      { env: { HOME: '/builds/g/p', CI_PROJECT_DIR: '/builds/g/p' }, cwd: '/' },
      FALLBACK,
    ],
    [
      'XDG_CACHE_HOME inside CI_PROJECT_DIR',
      {
        env: { HOME: '/root', XDG_CACHE_HOME: '/builds/g/p/.cache', CI_PROJECT_DIR: '/builds/g/p' },
        cwd: '/builds/g/p',
      },
      FALLBACK,
    ],
    [
      'a sibling whose name starts like the project is not inside it',
      { env: { HOME: '/builds/g/p-home', CI_PROJECT_DIR: '/builds/g/p' }, cwd: '/' },
      DIR('/builds/g/p-home/.cache/gitlab-aws-credential-helper'),
    ],
    [
      'a directory named "..x" below the project is inside it',
      { env: { HOME: '/builds/g/p/..x', CI_PROJECT_DIR: '/builds/g/p' }, cwd: '/' },
      FALLBACK,
    ],
    [
      'cwd below HOME does not forbid ~/.cache',
      { cwd: '/home/dev/work' },
      DIR('/home/dev/.cache/gitlab-aws-credential-helper'),
    ],
  ])('%s', (_name, change, expected) => {
    expect(resolveCacheLocation({ ...BASE, ...change })).toMatchObject(expected);
  });

  it('says why it fell back', () => {
    const location = resolveCacheLocation({
      ...BASE,
      env: { HOME: '/builds/p', CI_PROJECT_DIR: '/builds/p' },
    });
    expect(location).toEqual({
      kind: 'directory',
      path: '/tmp/gitlab-aws-credential-helper-1000',
      fallback: true,
      reason: '/builds/p/.cache/gitlab-aws-credential-helper is inside CI_PROJECT_DIR (/builds/p)',
    });
  });

  it('disables the cache when the temp directory is inside the project too', () => {
    const location = resolveCacheLocation({
      ...BASE,
      env: { HOME: '/builds/p', CI_PROJECT_DIR: '/builds/p' },
      tmpdir: '/builds/p/tmp',
    });
    expect(location.kind).toBe('disabled');
    expect(location).toMatchObject({
      reason: expect.stringContaining('/builds/p/tmp/gitlab-aws-credential-helper-1000'),
    });
  });

  it('sees through symlinks with the canonical mapping', () => {
    // ~/.cache is a symlink into the project.
    const canonical = (path: string) => path.replace('/home/dev/.cache', '/builds/p/.cache');
    const input = { ...BASE, env: { HOME: '/home/dev', CI_PROJECT_DIR: '/builds/p' }, cwd: '/' };
    expect(resolveCacheLocation(input)).toMatchObject({ fallback: false });
    expect(resolveCacheLocation(input, canonical)).toMatchObject({ fallback: true });
  });
});

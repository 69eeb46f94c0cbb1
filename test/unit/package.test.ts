/** What `npm publish` would ship: the built files, README and LICENSE, and a library that loads. */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('the npm package', () => {
  it('contains only dist/, README.md, LICENSE and package.json', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8' }),
    ) as [{ files: { path: string }[] }];
    const paths = pack.files.map((file) => file.path);
    expect(paths).toContain('dist/cli.js');
    expect(paths).toContain('dist/lib/index.js');
    expect(paths).toContain('dist/types/index.d.ts');
    for (const path of paths) expect(path).toMatch(/^(dist\/|README\.md$|LICENSE$|package\.json$)/);
    expect(paths.some((path) => /\.test\./.test(path))).toBe(false);
  });

  it('exposes the library API from the built entry point', async () => {
    const library = (await import(resolve(root, 'dist/lib/index.js'))) as Record<string, unknown>;
    for (const name of [
      'resolveSettings',
      'obtainCredentials',
      'exchangeWebIdentityToken',
      'formatCredentialProcessJson',
    ]) {
      expect(typeof library[name], name).toBe('function');
    }
  });
});

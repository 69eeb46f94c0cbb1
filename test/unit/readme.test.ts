import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { withSettingsTable } from '../../scripts/readme.js';
import { VERSION } from '../../src/version.js';

describe('documentation and metadata', () => {
  it('README settings table is generated from the option table (run `npm run readme`)', async () => {
    const readme = await readFile(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toBe(withSettingsTable(readme));
  });

  it('the CLI reports the package version', () => {
    expect(VERSION).toBe(packageJson.version);
  });
});

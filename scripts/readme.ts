/** `npm run readme`: rewrites the settings table of README.md from the option table. */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { renderOptionsMarkdown } from '../src/config/options.js';

export const START = '<!-- settings:start -->';
export const END = '<!-- settings:end -->';

export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md needs ${START} and ${END} markers`);
  return `${readme.slice(0, start + START.length)}\n${renderOptionsMarkdown()}\n${readme.slice(end)}`;
}

if (process.argv[1] === import.meta.filename) {
  const path = resolve(import.meta.dirname, '../README.md');
  await writeFile(path, withSettingsTable(await readFile(path, 'utf8')));
}

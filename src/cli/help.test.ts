import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../config/options.js';
import type { CommandInfo } from './argv.js';
import { renderHelp } from './help.js';

const COMMANDS: readonly CommandInfo[] = [
  { name: 'process', summary: 'print for credential_process', details: 'Example: process' },
  { name: 'aws-profile', summary: 'write a profile' },
  { name: 'env', summary: 'print variables', operands: '[command...]' },
  { name: 'cache', summary: 'manage the cache', subcommands: [{ name: 'clear', summary: 'remove entries' }] },
];

describe('renderHelp', () => {
  it('lists the global options, every command and help at the top', () => {
    const text = renderHelp([], COMMANDS, 'Exchange tokens.');
    expect(text).toMatch(
      /^Usage: gitlab-aws-credential-helper \[options\] \[command\]\n\nExchange tokens\.\n/,
    );
    for (const line of [
      'process [options]',
      'env [options] [command...]',
      'cache ',
      'help [command]',
      '-v, --version',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toContain('-A, --aws-account <id>');
    expect(text).not.toContain('--filename');
  });

  it("shows each command's own options, with defaults, variables and its details", () => {
    for (const command of ['process', 'aws-profile', 'env'] as const) {
      const text = renderHelp([command], COMMANDS, '');
      for (const spec of OPTIONS.filter((option) =>
        (option.commands as readonly string[]).includes(command),
      )) {
        expect(text, `${command} ${spec.flag}`).toContain(spec.flag);
        for (const variable of spec.env) expect(text).toContain(variable);
      }
      for (const spec of OPTIONS.filter(
        (option) => !(option.commands as readonly string[]).includes(command),
      )) {
        expect(text, `${command} must not show ${spec.flag}`).not.toContain(`${spec.flag} `);
      }
    }
    expect(renderHelp(['process'], COMMANDS, '')).toMatch(/Example: process\n$/);
    expect(renderHelp(['env'], COMMANDS, '')).toContain(
      'Usage: gitlab-aws-credential-helper env [options] [command...]',
    );
    expect(renderHelp(['process'], COMMANDS, '')).toContain('--no-cache');
  });

  it('shows the cache command and its subcommand', () => {
    expect(renderHelp(['cache'], COMMANDS, '')).toContain('clear [options]  remove entries');
    const clear = renderHelp(['cache', 'clear'], COMMANDS, '');
    expect(clear).toContain('Usage: gitlab-aws-credential-helper cache clear [options]');
    expect(clear).toContain('--debug');
    expect(clear).not.toContain('--aws-account');
  });
});

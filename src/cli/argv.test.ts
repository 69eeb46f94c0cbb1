import { describe, expect, it } from 'vitest';
import { type CommandInfo, parseArgv, suggest, UsageError } from './argv.js';

const COMMANDS: readonly CommandInfo[] = [
  { name: 'process', summary: 'p' },
  { name: 'aws-profile', summary: 'a' },
  { name: 'env', summary: 'e', operands: '[command...]' },
  { name: 'cache', summary: 'c', subcommands: [{ name: 'clear', summary: 'cc' }] },
];

const parse = (...argv: string[]) => parseArgv(argv, COMMANDS);
const usageError = (...argv: string[]): string => {
  try {
    parse(...argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('parseArgv', () => {
  it('reads flags before and after the command, the later one winning', () => {
    expect(parse('-A', '111111111111', 'process', '--aws-account', '222222222222')).toEqual({
      kind: 'run',
      command: 'process',
      flags: { awsAccount: '222222222222' },
      argv: [],
    });
  });

  it.each([
    [['--role-name=x', 'process'], { roleName: 'x' }],
    [['process', '-rx'], { roleName: 'x' }],
    [['process', '--role', 'x'], { roleName: 'x' }],
    [['process', '--no-cache'], { cache: false }],
    [['process', '--cache', '--debug'], { cache: true, debug: true }],
    [['env', '-ef', 'out'], { export: true, filename: 'out' }],
    [['process', '-n', '-dash-value'], { roleSessionName: '-dash-value' }],
  ])('reads %j', (argv, flags) => {
    expect(parse(...argv)).toMatchObject({ kind: 'run', flags });
  });

  it('passes everything after the first operand of env to the command, flags included', () => {
    expect(parse('env', '--no-cache', 'aws', '--region', 'x')).toMatchObject({
      flags: { cache: false },
      argv: ['aws', '--region', 'x'],
    });
    expect(parse('--region', 'us-east-1', 'env', '--', '--region', 'x')).toMatchObject({
      flags: { region: 'us-east-1' },
      argv: ['--region', 'x'],
    });
  });

  it('reads cache clear, with --debug before or after', () => {
    expect(parse('cache', 'clear')).toEqual({ kind: 'cache-clear', flags: {} });
    expect(parse('--debug', 'cache', 'clear')).toEqual({ kind: 'cache-clear', flags: { debug: true } });
    expect(parse('cache', 'clear', '--debug')).toEqual({ kind: 'cache-clear', flags: { debug: true } });
  });

  it.each([
    [[], { kind: 'help', path: [], failed: true }],
    [['--help'], { kind: 'help', path: [], failed: false }],
    [['help', 'env'], { kind: 'help', path: ['env'], failed: false }],
    [['env', '-h'], { kind: 'help', path: ['env'], failed: false }],
    [['cache'], { kind: 'help', path: ['cache'], failed: true }],
    [['cache', 'clear', '--help'], { kind: 'help', path: ['cache', 'clear'], failed: false }],
    [['-v'], { kind: 'version' }],
  ])('%j asks for help or the version', (argv, expected) => {
    expect(parse(...argv)).toEqual(expected);
  });

  it.each([
    [['--acount', '1', 'process'], "unknown option '--acount'"],
    [['--regin', 'x', 'process'], "unknown option '--regin'\n(Did you mean --region?)"],
    [['--name', 'x', 'aws-profile'], "unknown option '--name'"],
    [['process', '--export'], "unknown option '--export'"],
    [['process', '--debug=1'], "unknown option '--debug=1'\n(Did you mean --debug?)"],
    [['-A'], "option '-A, --aws-account <id>' argument missing"],
    [['proces'], "unknown command 'proces'\n(Did you mean process?)"],
    [['process', 'extra'], "too many arguments for 'process'. Expected 0 arguments but got 1."],
    [['help', 'bogus'], "unknown command 'bogus'"],
  ])('%j is a usage error', (argv, message) => {
    expect(usageError(...argv)).toBe(message);
  });
});

describe('suggest', () => {
  it('offers a close word and nothing for a far one', () => {
    expect(suggest('--regoin', ['--region', '--role-name'])).toBe('--region');
    expect(suggest('--zzz', ['--region'])).toBeUndefined();
  });
});

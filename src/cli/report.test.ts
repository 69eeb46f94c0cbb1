import { describe, expect, it } from 'vitest';
import { ConfigError, HelperError, StsError } from '../errors.js';
import { Redactor } from '../platform/redact.js';
import { exitCodeFor, formatErrorLine, reportError } from './report.js';
import { CommandRunnerFailure } from './run.js';

describe('error reporting', () => {
  it('prints one line: cause, then the fix', () => {
    const line = formatErrorLine(
      new ConfigError({
        code: 'X',
        message: 'no AWS account:\n GITLAB_AWS_ACCOUNT_ID is not set',
        hint: 'set it',
      }),
    );
    expect(line).toBe(
      'gitlab-aws-credential-helper: no AWS account: GITLAB_AWS_ACCOUNT_ID is not set. Fix: set it.',
    );
  });

  it('calls an unexpected failure a bug', () => {
    expect(formatErrorLine(new TypeError('x is undefined'))).toMatch(
      /unexpected error: x is undefined\. This is a bug/,
    );
  });

  it('exits 2 for settings problems and 1 for everything else', () => {
    expect(exitCodeFor(new ConfigError({ code: 'X', message: 'm' }))).toBe(2);
    expect(exitCodeFor(new StsError({ code: 'AccessDenied', message: 'm' }))).toBe(1);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });

  it('running a command (env -- CMD): 125 for every failure of its own, 126 and 127 for the command', () => {
    const runner = (error: unknown) => exitCodeFor(new CommandRunnerFailure(error));
    expect(runner(new ConfigError({ code: 'X', message: 'm' }))).toBe(125);
    expect(runner(new StsError({ code: 'AccessDenied', message: 'm' }))).toBe(125);
    expect(runner(new Error('x'))).toBe(125);
    expect(runner(new HelperError('process', { code: 'CommandFailed', message: 'm' }))).toBe(126);
    expect(runner(new HelperError('process', { code: 'CommandNotFound', message: 'm' }))).toBe(127);
    // The line is the one of the failure it carries.
    const failure = new StsError({ code: 'AccessDenied', message: 'refused', hint: 'fix the role' });
    expect(formatErrorLine(new CommandRunnerFailure(failure))).toBe(formatErrorLine(failure));
  });

  it('redacts secrets, also in --debug stack traces and causes', () => {
    const redactor = new Redactor();
    redactor.add('SECRETSECRETSECRET');
    const output: string[] = [];
    const cause = new Error('inner SECRETSECRETSECRET eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
    reportError(new StsError({ code: 'X', message: 'outer SECRETSECRETSECRET', cause }), {
      debug: true,
      redactor,
      write: (text) => output.push(text),
    });
    const text = output.join('');
    expect(text).toContain('inner [REDACTED] [REDACTED JWT]');
    expect(text).not.toContain('SECRETSECRETSECRET');
    expect(text).not.toContain('eyJzdWIiOiJ4In0');
  });
});

import { describe, expect, it } from 'vitest';
import { isValidRoleName, isValidSessionName, sanitizeSessionName } from './names.js';

const slugOf = (length: number, char = 'a'): string => char.repeat(length);

describe('isValidRoleName', () => {
  it.each([
    ['a', true],
    ['gitlab-my-group-my-project', true],
    ['A_z0+=,.@-', true],
    [slugOf(64), true],
    [slugOf(65), false],
    ['', false],
    ['ci/deployer', false],
    ['has space', false],
    ['colon:name', false],
    ['ümlaut', false],
    ['tab\t', false],
    ['line\n', false],
    ['\u212Aelvin', false], // Kelvin sign: \w must stay ASCII
  ])('%j → %s', (name, valid) => {
    expect(isValidRoleName(name)).toBe(valid);
  });
});

describe('isValidSessionName', () => {
  it.each([
    ['ab', true],
    ['a', false],
    ['', false],
    ['--', true],
    [slugOf(64), true],
    [slugOf(65), false],
    ['role+x=y,z.w@v-1_2', true],
    ['a/b', false],
    ['a b', false],
    ['a:b', false],
    ['añb', false],
  ])('%j → %s', (name, valid) => {
    expect(isValidSessionName(name)).toBe(valid);
  });
});

describe('sanitizeSessionName', () => {
  it.each([
    ['ci/deployer', 'ci-deployer'],
    ['with space', 'with-space'],
    ['a:b', 'a-b'],
    ['Ünïcödé', '-n-c-d-'],
    ['emoji😀x', 'emoji-x'], // one code point → one '-'
    ['keep+=,.@-_AZaz09', 'keep+=,.@-_AZaz09'],
    ['tab\tnew\nline', 'tab-new-line'],
    ['\u212A', '-'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeSessionName(input)).toBe(expected);
  });
});

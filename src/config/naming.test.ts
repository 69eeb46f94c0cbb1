import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidRoleName, isValidSessionName, sanitizeSessionName } from '../aws/names.js';
import { defaultRoleName, defaultSessionName, slugifyProjectPath } from './naming.js';

const slugOf = (length: number, char = 'a'): string => char.repeat(length);

/** GitLab's slug shape: [a-z0-9-], ≤ 63, no leading/trailing `-`, `--` runs allowed. */
const SLUG_SHAPE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$|^$/;

describe('slugifyProjectPath (GitLab slugify)', () => {
  it.each([
    ['mygroup/myproject', 'mygroup-myproject'],
    ['MyGroup/My.Project', 'mygroup-my-project'],
    ['group/sub_group/my_project', 'group-sub-group-my-project'],
    ['a//b', 'a--b'], // runs are kept
    ['-leading/trailing-', 'leading-trailing'],
    ['___', ''],
    ['', ''],
    ['grüne/ñ', 'gr-ne'],
    ['emoji😀/x', 'emoji--x'],
    // 62 chars + '/' + more: cut at 63 leaves a trailing '-', which is stripped
    [`${slugOf(62)}/tail`, slugOf(62)],
    [slugOf(63), slugOf(63)],
    [slugOf(64), slugOf(63)],
    [`-${slugOf(63)}`, slugOf(62)], // the cut happens before stripping the leading '-'
  ])('%j → %j', (path, expected) => {
    expect(slugifyProjectPath(path)).toBe(expected);
  });
});

describe('defaultRoleName', () => {
  it.each([
    ['my-group-my-project', 'gitlab-my-group-my-project'],
    ['a', 'gitlab-a'],
    ['group--project', 'gitlab-group--project'], // `--` runs stay as GitLab made them
    [slugOf(56), `gitlab-${slugOf(56)}`],
    [slugOf(57), `gitlab-${slugOf(57)}`], // 7 + 57 = 64: fits exactly
    [slugOf(58), `gitlab-${slugOf(57)}`], // cut, as the Go seed tool does
    [slugOf(63), `gitlab-${slugOf(57)}`],
    [`${slugOf(56)}-b`, `gitlab-${slugOf(56)}-`], // a '-' at the cut stays: IAM allows it, the seed kept it
    ['', 'gitlab'],
    ['with/slash', 'gitlab-with-slash'],
    ['ümlaut', 'gitlab--mlaut'],
  ])('%j → %j', (slug, expected) => {
    const name = defaultRoleName(slug);
    expect(name).toBe(expected);
    expect(isValidRoleName(name)).toBe(true);
  });

  it('is the shell recipe printf %.64s "gitlab-$CI_PROJECT_PATH_SLUG" for every GitLab slug', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/), (slug) => {
        expect(defaultRoleName(slug)).toBe(`gitlab-${slug}`.slice(0, 64));
      }),
    );
  });
});

describe('defaultSessionName', () => {
  const role64 = slugOf(64, 'r');

  it.each<[string, string, string | undefined, string]>([
    ['role + numeric id', 'gitlab-my-group-my-project', '1234567', 'gitlab-my-group-my-project-1234567'],
    ['undefined id → role alone', 'gitlab-my-group-my-project', undefined, 'gitlab-my-group-my-project'],
    ['empty CI_PIPELINE_ID → role alone', 'deployer', '', 'deployer'],
    ['whitespace id → role alone', 'deployer', '  \t', 'deployer'],
    ['id is trimmed', 'deployer', ' 42\n', 'deployer-42'],
    ['1-char role, no id → padded', 'a', undefined, 'a_'],
    ['1-char role with id', 'a', '1', 'a-1'],
    ['empty role, no id → padded', '', undefined, '__'],
    ['empty role with id keeps the separator', '', '7', '-7'],
    ['role with a path is sanitized', 'ci/deployer', '99', 'ci-deployer-99'],
    ['role with space, colon, unicode', 'my role:ü', '5', 'my-role---5'],
    ['non-digit id is sanitized', 'deployer', 'feature/x y', 'deployer-feature-x-y'],
    ['64-char role, no id → unchanged', role64, undefined, role64],
    ['65-char role, no id → cut to 64', `${role64}x`, undefined, role64],
    ['64-char role + 10-digit id → role cut', role64, '1234567890', `${slugOf(53, 'r')}-1234567890`],
    ['64-char role + 20-digit id', role64, '12345678901234567890', `${slugOf(43, 'r')}-12345678901234567890`],
    ['exact fit: 52 + 1 + 11', slugOf(52, 'r'), '12345678901', `${slugOf(52, 'r')}-12345678901`],
    [
      'one over: 53 + 1 + 11 → role loses 1',
      slugOf(53, 'r'),
      '12345678901',
      `${slugOf(52, 'r')}-12345678901`,
    ],
    ['40-char id is kept whole', 'deployer', '1'.repeat(40), `deployer-${'1'.repeat(40)}`],
    ['41-char id keeps its last 40', 'deployer', `9${'1'.repeat(40)}`, `deployer-${'1'.repeat(40)}`],
    [
      '70-char id keeps its last 40, role keeps 23',
      role64,
      '1234567890'.repeat(7),
      `${slugOf(23, 'r')}-${'1234567890'.repeat(4)}`,
    ],
    [
      'id longer than 64 keeps its tail',
      'deployer',
      `${'x'.repeat(60)}TAIL${'0'.repeat(36)}`,
      `deployer-TAIL${'0'.repeat(36)}`,
    ],
  ])('%s', (_label, roleName, pipelineId, expected) => {
    const name = defaultSessionName(roleName, pipelineId);
    expect(name).toBe(expected);
    expect(isValidSessionName(name)).toBe(true);
  });

  it('fits the longest derived role name with a 20-digit pipeline id', () => {
    const role = defaultRoleName(slugOf(63));
    const name = defaultSessionName(role, '18446744073709551615');
    expect(name).toHaveLength(64);
    expect(name.endsWith('-18446744073709551615')).toBe(true);
  });
});

describe('properties', () => {
  const slugLike = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
  );
  const validIdChar = fc.constantFrom(...'0123456789abcXYZ_+=,.@-');
  const pipelineId = fc.oneof(
    fc.constant(undefined),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
    fc.string({ unit: validIdChar, minLength: 1, maxLength: 100 }),
    fc.string({ unit: 'binary', maxLength: 100 }),
  );
  const roleName = fc.oneof(slugLike, slugLike.map(defaultRoleName));

  // Same inputs, same names, on every runner and release: the golden tables above pin that.
  it('defaultRoleName is always a valid role name', () => {
    fc.assert(
      fc.property(slugLike, (slug) => {
        const name = defaultRoleName(slug);
        expect(isValidRoleName(name)).toBe(true);
        expect(name.startsWith('gitlab')).toBe(true);
      }),
    );
  });

  it('defaultRoleName leaves GitLab slugs that fit untouched', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,55}[a-z0-9])?$/), (slug) => {
        expect(defaultRoleName(slug)).toBe(`gitlab-${slug}`);
      }),
    );
  });

  it('defaultSessionName is always a valid session name', () => {
    fc.assert(
      fc.property(roleName, pipelineId, (role, id) => {
        expect(isValidSessionName(defaultSessionName(role, id))).toBe(true);
      }),
    );
  });

  it('keeps a valid pipeline id of at most 40 characters as the suffix', () => {
    fc.assert(
      fc.property(roleName, fc.string({ unit: validIdChar, minLength: 1, maxLength: 40 }), (role, id) => {
        expect(defaultSessionName(role, id).endsWith(`-${id}`)).toBe(true);
      }),
    );
  });

  it('keeps the last 40 characters of a longer valid pipeline id', () => {
    fc.assert(
      fc.property(roleName, fc.string({ unit: validIdChar, minLength: 41, maxLength: 200 }), (role, id) => {
        expect(defaultSessionName(role, id).endsWith(`-${id.slice(-40)}`)).toBe(true);
      }),
    );
  });

  it('keeps the sanitized role name as a prefix', () => {
    fc.assert(
      fc.property(roleName, pipelineId, (role, id) => {
        const name = defaultSessionName(role, id);
        const clean = sanitizeSessionName(role);
        const trimmed = id?.trim() ?? '';
        if (trimmed === '') {
          expect(`${clean}__`.startsWith(name)).toBe(true);
          return;
        }
        const idPart = sanitizeSessionName(trimmed).slice(-40);
        expect(name.endsWith(`-${idPart}`)).toBe(true);
        expect(clean.startsWith(name.slice(0, name.length - idPart.length - 1))).toBe(true);
      }),
    );
  });

  it('slugifyProjectPath has the GitLab slug shape and is idempotent', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), fc.stringMatching(/^[\w./-]{0,120}$/)),
        (path) => {
          const slug = slugifyProjectPath(path);
          expect(slug).toMatch(SLUG_SHAPE);
          expect(slugifyProjectPath(slug)).toBe(slug);
        },
      ),
    );
  });

  it('sanitizeSessionName only ever emits valid characters and keeps valid ones', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const out = sanitizeSessionName(s);
        expect(out).toMatch(/^[\w+=,.@-]*$/);
        expect(out.length).toBe([...s].length);
      }),
    );
  });
});

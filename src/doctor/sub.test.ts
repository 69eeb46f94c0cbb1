import { describe, expect, it } from 'vitest';
import { explainSubMismatch, parseSub } from './sub.js';

const MAIN = 'project_path:g/p:ref_type:branch:ref:main';

describe('parseSub', () => {
  it.each([
    [
      MAIN,
      [
        ['project_path', 'g/p'],
        ['ref_type', 'branch'],
        ['ref', 'main'],
      ],
    ],
    [
      'project_path:g/p:ref:main',
      [
        ['project_path', 'g/p'],
        ['ref', 'main'],
      ],
    ],
    ['project_path:g/*', [['project_path', 'g/*']]],
    ['project_path:g/p:ref_type:branch:ref', undefined],
    ['ref:main:project_path:g/p', undefined],
    ['repo:org/x:ref:refs/heads/main', undefined],
    ['job_123', undefined],
  ])('%s', (sub, parts) => {
    expect(parseSub(sub)).toEqual(parts);
  });
});

describe('explainSubMismatch', () => {
  it.each([
    {
      name: 'another project',
      token: 'project_path:g/q:ref_type:branch:ref:main',
      patterns: [MAIN],
      like: false,
      differences: ['project_path: the role wants "g/p", the token has "g/q"'],
      fix: /^this job runs in g\/q, the role trusts g\/p: use that project's own role/,
    },
    {
      name: 'a tag where the role wants main',
      token: 'project_path:g/p:ref_type:tag:ref:v1',
      patterns: [MAIN],
      like: false,
      differences: [
        'ref_type: the role wants "branch", the token has "tag"',
        'ref: the role wants "main", the token has "v1"',
      ],
      fix: /^the role trusts branch main, this pipeline runs for tag v1: add "project_path:g\/p:ref_type:tag:ref:v1"/,
    },
    {
      name: 'a ref written as refs/heads/…',
      token: MAIN,
      patterns: ['project_path:g/p:ref_type:branch:ref:refs/heads/main'],
      like: false,
      differences: [
        'ref: the role wants "refs/heads/main", the token has "main" (the sub carries the bare ref name, without refs/heads/ or refs/tags/)',
      ],
      fix: /^the role trusts branch refs\/heads\/main/,
    },
    {
      name: 'a wildcard under StringEquals',
      token: MAIN,
      patterns: ['project_path:g/p:ref_type:branch:ref:*'],
      like: false,
      differences: [
        '"project_path:g/p:ref_type:branch:ref:*" holds a wildcard, but StringEquals compares * and ? literally',
      ],
      fix: /^use StringLike for the sub condition/,
    },
    {
      name: 'a StringLike pattern part by part',
      token: 'project_path:g/p:ref_type:branch:ref:hotfix/1',
      patterns: ['project_path:g/*:ref_type:branch:ref:release/*'],
      like: true,
      differences: ['ref: the role wants "release/*", the token has "hotfix/1"'],
      fix: /^the role trusts branch release\/\*, this pipeline runs for branch hotfix\/1/,
    },
    {
      name: 'a customised sub layout',
      token: 'project_path:g/p:ref:main',
      patterns: [MAIN],
      like: false,
      differences: [
        `the token's sub lists project_path, ref, the role's pattern "${MAIN}" lists project_path, ref_type, ref (the project's sub claim layout differs)`,
      ],
      fix: /^write the role's sub in the token's layout/,
    },
    {
      name: 'a pattern in no GitLab layout',
      token: MAIN,
      patterns: ['repo:g/p:ref:refs/heads/main'],
      like: true,
      differences: [`the token's sub "${MAIN}" matches none of "repo:g/p:ref:refs/heads/main"`],
      fix: /^add "project_path:g\/p:ref_type:branch:ref:main" to the role's sub values/,
    },
  ])('$name', ({ token, patterns, like, differences, fix }) => {
    const mismatch = explainSubMismatch(token, patterns, like);
    expect(mismatch.differences).toEqual(differences);
    expect(mismatch.fix).toMatch(fix);
  });
});

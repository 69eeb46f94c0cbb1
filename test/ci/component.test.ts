/**
 * The CI/CD component in templates/, as GitLab reads it: a `spec:` header and a job document, every
 * input declared once with a description and a valid default, typed and validated, every input used
 * and every use declared, and the defaults pointing at this release. Its scripts are run end to end
 * against the release archives by test/binary/component.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  COMPONENT_FILE,
  type Component,
  inputReferences,
  interpolate,
  loadComponent,
  ROOT,
} from '../support/gitlab-ci.js';
import { COMPONENT, LAYOUT, PACKAGE_REGISTRY, TARGET_NAMES, VERSION } from '../support/release.js';

let component: Component;
let text: string;

beforeAll(async () => {
  text = await readFile(COMPONENT_FILE, 'utf8');
  component = await loadComponent();
});

describe('the component file', () => {
  it('is two YAML documents: a header with only spec:inputs, then the jobs', () => {
    const documents = parseAllDocuments(text);
    expect(Array.isArray(documents) ? documents.length : 0).toBe(2);
    const header = (Array.isArray(documents) ? documents[0]?.toJS() : undefined) as Record<string, unknown>;
    expect(Object.keys(header)).toEqual(['spec']);
    expect(Object.keys(header.spec as Record<string, unknown>)).toEqual(['inputs']);
  });

  it('declares each input once, with a description and a default that passes its own checks', () => {
    const declared = [...(text.split('\n---\n')[0]?.matchAll(/^ {4}([A-Za-z0-9_-]+):$/gm) ?? [])].map(
      (m) => m[1],
    );
    expect(new Set(declared).size).toBe(declared.length);
    expect(declared.sort()).toEqual(Object.keys(component.inputs).sort());
    for (const [name, spec] of Object.entries(component.inputs)) {
      expect(spec.description, name).toMatch(/\S/);
      expect(spec.default, `${name} has a default: an include needs no inputs but the account`).toBeDefined();
      expect(['string', 'number', 'boolean', undefined]).toContain(spec.type);
      if (spec.regex !== undefined)
        expect(spec.type ?? 'string', `${name}: regex is for strings`).toBe('string');
      if (spec.options !== undefined) expect(spec.options, name).toContain(spec.default);
      if (spec.regex !== undefined) expect(String(spec.default), name).toMatch(new RegExp(spec.regex));
    }
    expect(() => interpolate(component, {})).not.toThrow();
  });

  it('uses every declared input, and only declared ones', () => {
    expect(new Set(inputReferences(component.body))).toEqual(new Set(Object.keys(component.inputs)));
    expect(inputReferences(text.split('\n---\n')[0] ?? '')).toEqual([]);
  });

  it('validates what it interpolates into the job', () => {
    const bad: Array<[string, string | number]> = [
      ['aws-account-id', '12345678901'],
      ['aws-account-id', '1234567890123'],
      ['role', 'two words'],
      ['role', 'gitlab-$(id)'],
      ['region', 'EU-WEST-1'],
      ['job', 'visible-job'],
      ['version', 'latest'],
      ['install', 'sometimes'],
      ['platform', 'darwin_arm64'],
      ['profile', 'a b'],
      ['download-url', 'ftp://mirror/x'],
      ['audience', 'https://gitlab.com"; id'],
    ];
    for (const [name, value] of bad) {
      expect(() => interpolate(component, { [name]: value }), `${name}=${value}`).toThrow(name);
    }
    const good: Array<[string, string]> = [
      ['aws-account-id', '012345678901'],
      ['role', 'arn:aws-us-gov:iam::123456789012:role/ci/deployer'],
      ['region', 'us-gov-west-1'],
      ['job', '.aws-production'],
      ['version', '1.2.3-rc.1'],
      ['download-url', '$CI_API_V4_URL/projects/1/packages/generic/x'],
    ];
    for (const [name, value] of good) {
      expect(() => interpolate(component, { [name]: value }), `${name}=${value}`).not.toThrow();
    }
  });

  it('defines one hidden job with the ID token, the variables and the before_script', () => {
    const jobs = interpolate(component, {});
    expect(Object.keys(jobs)).toEqual(['.aws-credentials']);
    const job = jobs['.aws-credentials'] as Record<string, unknown>;
    expect(Object.keys(job).sort()).toEqual(['before_script', 'id_tokens', 'variables']);
    expect(job.id_tokens).toEqual({ GITLAB_AWS_IDENTITY_TOKEN: { aud: '$CI_SERVER_URL' } });
    expect(Object.keys(interpolate(component, { job: '.aws-prod' }))).toEqual(['.aws-prod']);
  });

  it('downloads this release from the generic package the release pipeline fills', () => {
    expect(component.inputs.version?.default).toBe(VERSION);
    expect(component.inputs['download-url']?.default).toBe(PACKAGE_REGISTRY);
    expect(component.inputs.platform?.options).toEqual([
      'auto',
      ...TARGET_NAMES.map((target) => LAYOUT.targets[target].archive),
    ]);
  });
});

describe("the README's component section", () => {
  it('includes this component at this version and extends its hidden job', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`- component: ${COMPONENT}@${VERSION}`);
    expect(readme).toContain(`extends: ${String(component.inputs.job?.default)}`);
  });
});

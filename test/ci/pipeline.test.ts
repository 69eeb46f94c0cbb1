/**
 * The project's own .gitlab-ci.yml, checked as far as it can be without GitLab: it parses, its
 * rules give the intended jobs for branch, merge request and tag pipelines, every `needs:`,
 * `extends:` and stage refers to what exists in that pipeline, every script it runs is in the
 * repository, the build's artifacts hold what the release jobs read, and the release's asset links
 * are the download URLs of the README and the component. The release scripts themselves run
 * against local stand-ins of GitLab's package API, a registry and npm in test/image/release-jobs.test.ts.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import {
  type CiMap,
  type CiValue,
  expandVariables,
  loadCiFile,
  ROOT,
  stringList,
} from '../support/gitlab-ci.js';
import { IMAGE, IMAGE_ARCHIVE, PACKAGE_REGISTRY, releaseFiles, VERSION } from '../support/release.js';

let ci: CiMap;

beforeAll(async () => {
  ci = await loadCiFile();
});

const GLOBAL_KEYS = new Set(['workflow', 'stages', 'variables', 'default', 'include']);
type Job = Record<string, CiValue>;

function jobs(): Record<string, Job> {
  return Object.fromEntries(Object.entries(ci).filter(([name]) => !GLOBAL_KEYS.has(name))) as Record<
    string,
    Job
  >;
}

/** A job with its `extends:` applied (one level deep is all this file uses). */
function resolved(name: string): Job {
  const job = jobs()[name];
  if (job === undefined) throw new Error(`no job ${name}`);
  const parents = job.extends === undefined ? [] : stringList(job.extends, `${name}: extends`);
  return Object.assign({}, ...parents.map((parent) => jobs()[parent] ?? {}), job) as Job;
}

/** The `if:` expressions this file uses: `$A`, `$A == "x"`, `$A =~ /re/`, joined by `&&`. */
function evaluate(expression: string, env: Record<string, string>): boolean {
  return expression.split(' && ').every((term) => {
    const equals = /^\$(\w+) == "([^"]*)"$/.exec(term);
    if (equals) return (env[equals[1] ?? ''] ?? '') === equals[2];
    const matches = /^\$(\w+) =~ \/(.*)\/$/.exec(term);
    if (matches) return new RegExp(matches[2] ?? '').test(env[matches[1] ?? ''] ?? '');
    const bare = /^\$(\w+)$/.exec(term);
    if (bare) return (env[bare[1] ?? ''] ?? '') !== '';
    throw new Error(`this test cannot evaluate the rule term ${term}: teach it`);
  });
}

/** The first matching rule decides; no rules means always; `when: never` (or no match) means not. */
function applies(rules: CiValue | undefined, env: Record<string, string>): boolean {
  if (rules === undefined) return true;
  for (const rule of rules as Array<{ if?: string; when?: string }>) {
    if (rule.if === undefined || evaluate(rule.if, env)) return rule.when !== 'never';
  }
  return false;
}

function pipeline(env: Record<string, string>): string[] | undefined {
  if (!applies((ci.workflow as { rules: CiValue }).rules, env)) return undefined;
  return Object.keys(jobs()).filter((name) => !name.startsWith('.') && applies(resolved(name).rules, env));
}

const PIPELINES = {
  'a push to main': { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main' },
  'a merge request': { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '7' },
  'a version tag': { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: VERSION },
} as const;

describe('.gitlab-ci.yml', () => {
  it('runs the tests and the build on branches and merge requests, and releases only on a version tag', () => {
    expect(pipeline(PIPELINES['a push to main'])).toEqual(['test', 'build']);
    expect(pipeline(PIPELINES['a merge request'])).toEqual(['test', 'build']);
    expect(pipeline(PIPELINES['a version tag'])).toEqual([
      'test',
      'build',
      'upload:packages',
      'push:image',
      'publish:npm',
      'release',
    ]);
    expect(pipeline({ CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: `v${VERSION}` })).toEqual(['test', 'build']);
    expect(pipeline({ CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: `${VERSION}-rc.1` })).toHaveLength(6);
    expect(
      pipeline({ CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'feature', CI_OPEN_MERGE_REQUESTS: 'g/p!7' }),
      'no branch pipeline beside the merge request pipeline',
    ).toBeUndefined();
  });

  it('gives every job a known stage, an image and a script; needs and extends name what exists', () => {
    const stages = ci.stages as string[];
    for (const [label, env] of Object.entries(PIPELINES)) {
      const present = pipeline(env) ?? [];
      for (const name of present) {
        const job = resolved(name);
        expect(stages, `${name}: stage`).toContain(job.stage);
        expect(job.image, `${name}: image`).toBeDefined();
        expect(stringList(job.script, `${name}: script`).length, `${name}: script`).toBeGreaterThan(0);
        for (const need of (job.needs as CiValue[] | undefined) ?? []) {
          const needed = typeof need === 'string' ? need : String((need as { job: string }).job);
          expect(present, `${label}: ${name} needs ${needed}`).toContain(needed);
          expect(stages.indexOf(String(resolved(needed).stage))).toBeLessThanOrEqual(
            stages.indexOf(String(job.stage)),
          );
        }
      }
    }
    for (const [name, job] of Object.entries(jobs())) {
      for (const parent of job.extends === undefined ? [] : stringList(job.extends, name)) {
        expect(jobs()[parent], `${name} extends ${parent}`).toBeDefined();
      }
    }
  });

  it('runs only scripts and npm scripts that exist in the repository', () => {
    const npmScripts = Object.keys(packageJson.scripts);
    for (const name of Object.keys(jobs())) {
      for (const line of resolved(name).script === undefined ? [] : stringList(resolved(name).script, name)) {
        for (const match of line.matchAll(/(?:^|\s)(\.ci\/\S+)/g)) {
          const path = join(ROOT, match[1] ?? '');
          expect(existsSync(path), `${name}: ${match[1]}`).toBe(true);
          if (!line.startsWith('bash '))
            expect(statSync(path).mode & 0o111, `${match[1]} is executable`).not.toBe(0);
        }
        for (const match of line.matchAll(/npm run ([\w:-]+)/g)) expect(npmScripts, name).toContain(match[1]);
      }
    }
    expect(stringList(jobs().test?.script, 'test')).toEqual(['bash .ci/run']);
    const build = stringList(jobs().build?.script, 'build').join('\n');
    for (const step of [
      'npm run build:binaries',
      'npm run build:image',
      'npm pack --pack-destination dist/release',
    ])
      expect(build).toContain(step);
  });

  it("keeps in the build's artifacts every file the release jobs publish", () => {
    const globs = (resolved('build').artifacts as { paths: string[] }).paths.map(
      (glob) => new RegExp(`^${glob.replaceAll('.', '\\.').replaceAll('*', '[^/]*')}$`),
    );
    const published = [
      ...releaseFiles().map((file) => `dist/release/${file}`),
      `dist/release/${IMAGE_ARCHIVE}`,
      `dist/release/${packageJson.name}-${VERSION}.tgz`,
    ];
    for (const file of published)
      expect(
        globs.some((glob) => glob.test(file)),
        file,
      ).toBe(true);
  });

  it('makes the release with the release: keyword, linking every archive and SHA256SUMS of the package', () => {
    const release = resolved('release');
    expect(String(release.image)).toMatch(/^registry\.gitlab\.com\/gitlab-org\/cli:/);
    const keyword = release.release as { tag_name: string; description: string; assets: { links: CiMap[] } };
    expect(keyword.tag_name).toBe('$CI_COMMIT_TAG');
    const notes = keyword.description.replace(/^\.\//, '');
    expect((resolved('upload:packages').artifacts as { paths: string[] }).paths).toContain(notes);
    expect(
      (release.needs as CiValue[]).some(
        (need) => typeof need === 'object' && need !== null && (need as CiMap).job === 'upload:packages',
      ),
    ).toBe(true);
    const env = {
      CI_COMMIT_TAG: VERSION,
      RELEASE_PACKAGE_URL: 'https://packages.example/v',
      CI_PROJECT_URL: 'https://gitlab.example/p',
      CI_REGISTRY_IMAGE: 'registry.example/p',
    };
    const links = keyword.assets.links.map((link) => ({
      name: expandVariables(String(link.name), env),
      url: expandVariables(String(link.url), env),
      type: link.link_type,
    }));
    const packaged = links.filter((link) => link.type !== 'image');
    expect(packaged.map((link) => link.name)).toEqual(releaseFiles());
    for (const link of packaged) expect(link.url).toBe(`https://packages.example/v/${link.name}`);
    expect(links.find((link) => link.type === 'image')?.name).toBe(
      `container image registry.example/p:${VERSION}`,
    );
  });

  it("publishes to npm with the job's ID tokens for trusted publishing and provenance", () => {
    expect(resolved('publish:npm').id_tokens).toEqual({
      NPM_ID_TOKEN: { aud: 'npm:registry.npmjs.org' },
      SIGSTORE_ID_TOKEN: { aud: 'sigstore' },
    });
  });
});

describe('the README', () => {
  it('names the image, the package and the download place that the release pipeline fills', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`FROM ${IMAGE}:${VERSION} AS `);
    expect(readme).toContain(`  ${IMAGE}:${VERSION} env --export`);
    expect(readme).toContain(`npm install --global ${packageJson.name}\n`);
    expect(readme).toContain(`- GACH_VERSION=${VERSION}\n`);
    expect(readme).toContain(`GACH_URL=${PACKAGE_REGISTRY}/$GACH_VERSION\n`);
    expect(readme).toContain('### Releasing');
  });
});

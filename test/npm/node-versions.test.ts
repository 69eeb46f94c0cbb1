/**
 * The supported Node.js majors (22 and 24) both run the npm form: the Node that runs the suite
 * (.ci/run puts Node 22 from the npm registry first on PATH) and every binary named in
 * GACH_EXTRA_NODES (colon-separated; .ci/run installs Node 24) run each mode here, and must print
 * nothing unexpected on stderr.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, createJob, run } from '../e2e/harness.js';
import { startTestBed, type TestBed } from '../support/bed.js';

const SUPPORTED_MAJORS = [22, 24];
const extraNodes = (process.env.GACH_EXTRA_NODES ?? '').split(':').filter((path) => path !== '');
const majorOf = (node: string) =>
  Number(/^v(\d+)/.exec(execFileSync(node, ['--version'], { encoding: 'utf8' }))?.[1]);
const nodes = [process.execPath, ...extraNodes].map((path) => ({ path, major: majorOf(path) }));

let bed: TestBed;
beforeAll(async () => {
  assertBuilt();
  bed = await startTestBed();
});
afterAll(async () => {
  await bed?.stop();
});

describe('Node.js versions', () => {
  it('covers every supported major under CI', () => {
    const majors = new Set(nodes.map((node) => node.major));
    const missing = SUPPORTED_MAJORS.filter((major) => !majors.has(major));
    if (process.env.CI === 'true') {
      expect(missing, 'set GACH_EXTRA_NODES to the missing Node.js binaries (.ci/run does)').toEqual([]);
    }
  });

  it.each(nodes.map((node) => [`v${node.major} (${node.path})`, node.path] as const))(
    'runs every mode on %s without warnings',
    async (_label, node) => {
      const job = await createJob(bed, await bed.mint());
      try {
        const processResult = await run(node, [CLI, 'process', '--no-cache'], job.env);
        expect(processResult.stderr).toBe('');
        expect(processResult.code).toBe(0);
        expect(JSON.parse(processResult.stdout)).toMatchObject({ Version: 1 });
        const profile = await run(node, [CLI, 'aws-profile', '--no-cache'], job.env);
        expect(profile.code, profile.stderr).toBe(0);
        expect(profile.stderr).toMatch(/^gitlab-aws-credential-helper: wrote profile \[default\][^\n]*\n$/);
        const env = await run(
          node,
          [CLI, 'env', '--', node, '-e', 'process.stdout.write(process.env.AWS_ACCESS_KEY_ID)'],
          job.env,
        );
        expect(env.code, env.stderr).toBe(0);
        expect(env.stdout).toMatch(/^ASIA/);
        expect(env.stderr).toBe('');
      } finally {
        await job.cleanup();
      }
    },
  );
});

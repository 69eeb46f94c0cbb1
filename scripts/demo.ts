/**
 * `npm run demo`: the main job on an embedded default. Starts a local GitLab-like OIDC issuer and a
 * local STS, mints an ID token for demo-group/demo-project, and runs every mode of the built CLI the
 * way a pipeline would, showing who AWS thinks we are after each.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  assertBuilt,
  createJob,
  credentialProcessLine,
  findAwsClis,
  NODE,
  run,
  runCli,
} from '../test/e2e/harness.js';
import { startTestBed } from '../test/support/bed.js';

const SDK_CALLER = resolve(import.meta.dirname, '../test/e2e/fixtures/sdk-caller-identity.mjs');

function show(title: string, result: { code: number | null; stdout: string; stderr: string }): void {
  const ok = result.code === 0;
  let detail = result.stderr.trim();
  if (ok) {
    try {
      detail = `Arn ${(JSON.parse(result.stdout) as { Arn: string }).Arn}`;
    } catch {
      detail = result.stdout.trim();
    }
  }
  console.log(`${ok ? '✔' : '✘'} ${title}\n    ${detail}`);
  if (!ok) process.exitCode = 1;
}

assertBuilt();
const bed = await startTestBed();
try {
  const token = await bed.mint();
  const job = await createJob(bed, token);
  const clis = await findAwsClis();
  const aws = clis[0];
  console.log(`Local issuer ${bed.issuer.iss} (serving at ${bed.issuer.baseUrl}), local STS ${bed.sts.url}`);
  console.log(
    `Job: project demo-group/demo-project, pipeline ${job.env.CI_PIPELINE_ID}, account ${bed.accountId}`,
  );
  console.log(`Token sub: ${JSON.stringify(bed.issuer.claims().sub)}\n`);

  const processOut = await runCli(['process'], job.env);
  console.log(
    `$ gitlab-aws-credential-helper process   → ${processOut.code === 0 ? 'credential_process JSON (secrets not shown)' : processOut.stderr.trim()}`,
  );

  await mkdir(resolve(job.home, '.aws'), { recursive: true });
  await writeFile(job.configFile, `[default]\ncredential_process = ${credentialProcessLine()}\n`);
  show('AWS SDK for JavaScript via credential_process', await run(NODE, [SDK_CALLER], job.env));
  if (aws !== undefined) {
    show(
      `${aws.label} via credential_process: aws sts get-caller-identity`,
      await run(aws.path, ['sts', 'get-caller-identity', '--endpoint-url', bed.sts.url], job.env),
    );
  }
  await writeFile(job.configFile, '');

  const profile = await runCli(['aws-profile'], job.env);
  console.log(`$ gitlab-aws-credential-helper aws-profile\n    ${profile.stderr.trim()}`);
  if (aws !== undefined) {
    show(
      `${aws.label} with the written profile`,
      await run(aws.path, ['sts', 'get-caller-identity', '--endpoint-url', bed.sts.url], job.env),
    );
  }

  show(
    'eval "$(gitlab-aws-credential-helper env --export)" then the SDK',
    await run(
      'bash',
      ['-c', `eval "$(${credentialProcessLine(['env', '--export'])})" && "${NODE}" "${SDK_CALLER}"`],
      {
        ...job.env,
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    ),
  );
  show(
    'gitlab-aws-credential-helper env -- <SDK program>',
    await runCli(['env', '--', NODE, SDK_CALLER], job.env),
  );

  const refused = await createJob(bed, await bed.mint({ project_path: 'someone-else/project' }));
  const denied = await runCli(['process'], refused.env);
  console.log(
    `\nA token of another project is refused with a clear message (exit ${denied.code}):\n    ${denied.stderr.trim()}`,
  );
  await refused.cleanup();
  await job.cleanup();
  console.log(`\nSTS exchanges made: ${bed.sts.exchangeCount()}`);
} finally {
  await bed.stop();
}

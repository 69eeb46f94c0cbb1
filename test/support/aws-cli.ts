/**
 * Runs the real AWS CLI (v1 or v2) against the emulators with an environment that cannot leak the
 * developer's own AWS setup: empty config and credentials files, no AWS_* variables except the
 * ones given, no instance-metadata lookups.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AwsCliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The `aws --version` line, or undefined when no working AWS CLI is on PATH. */
export function awsCliVersion(): string | undefined {
  const result = spawnSync('aws', ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim();
}

/** Environment for the CLI: this process's variables minus AWS_*, plus isolation and `extra`. */
export function isolatedAwsEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('AWS_') && value !== undefined) env[name] = value;
  }
  const config = join(home, 'config');
  const credentials = join(home, 'credentials');
  writeFileSync(config, '', { flag: 'a' });
  writeFileSync(credentials, '', { flag: 'a' });
  return {
    ...env,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...extra,
  };
}

/** Runs `aws ...args` in a fresh temp directory that is removed afterwards. */
export async function runAwsCli(
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<AwsCliResult> {
  const home = mkdtempSync(join(tmpdir(), 'aws-cli-'));
  try {
    const env = isolatedAwsEnv(home, extraEnv);
    return await new Promise<AwsCliResult>((resolve) => {
      execFile(
        'aws',
        [...args],
        { env, cwd: home, timeout: 60_000, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ exitCode: code, stdout, stderr });
        },
      );
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

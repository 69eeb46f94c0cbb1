/** What every command does before handing credentials over: settings, token, credentials. */
import { resolveSettings, type Settings } from '../../config/resolve.js';
import { cacheForSettings, type ObtainResult, obtainCredentials } from '../../obtain.js';
import { describeTokenSource } from '../../token/read.js';
import type { CommandRun } from '../run.js';

export interface Obtained extends ObtainResult {
  readonly settings: Settings;
}

export function debugLogger(run: CommandRun): (line: string) => void {
  if (!run.debug) return () => {};
  return (line) => run.io.stderr(`${run.redactor.redact(`[debug] ${line}`)}\n`);
}

export async function obtainForRun(run: CommandRun): Promise<Obtained> {
  const settings = resolveSettings(run.command, run.flags, run.env);
  const log = debugLogger(run);
  log(
    `role ${settings.roleArn}, session ${settings.roleSessionName}, duration ${settings.durationSeconds}s, ` +
      `region ${settings.region}, endpoint ${settings.endpoint}, token from ${describeTokenSource(settings.tokenSource)}`,
  );
  const warn = (line: string) =>
    run.io.stderr(`${run.redactor.redact(`gitlab-aws-credential-helper: ${line}`)}\n`);
  const cache = cacheForSettings(settings, { env: run.env, log, warn });
  const result = await obtainCredentials(settings, {
    env: run.env,
    log,
    cache,
    secret: (value) => run.redactor.add(value),
    warn,
  });
  log(
    `credentials ${result.fromCache ? 'from cache' : 'from STS'}` +
      `${result.assumedRoleArn === undefined ? '' : ` for ${result.assumedRoleArn}`}, ` +
      `expire ${result.credentials.expiration.toISOString()}`,
  );
  return { ...result, settings };
}

/**
 * `doctor`: gathers what the report needs (settings, the token's claims, the trust policy file,
 * optionally a live exchange) and prints the report. Every failure becomes a check in the report;
 * only a wrong command line (--format, --parameter) is an error of the command itself.
 */
import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';
import { defaultOf } from '../../config/options.js';
import { looksLikeJwt } from '../../config/parse.js';
import { rawValue, resolveSettings, type Settings } from '../../config/resolve.js';
import { renderDoctorJson, renderDoctorText } from '../../doctor/render.js';
import {
  buildDoctorReport,
  type LiveInput,
  type Outcome,
  type TokenCandidate,
  type TokenState,
} from '../../doctor/report.js';
import { ConfigError, FileError, isHelperError } from '../../errors.js';
import { obtainCredentials } from '../../obtain.js';
import { type LoadedTrustPolicy, loadTrustPolicy, parseTemplateParameters } from '../../policy/document.js';
import { decodeTokenClaims } from '../../token/claims.js';
import { describeTokenSource, readToken } from '../../token/read.js';
import type { CommandRun } from '../run.js';
import { debugLogger } from './shared.js';

type Format = 'text' | 'json';

function outcome<T>(run: () => T): Outcome<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (isHelperError(error)) return { ok: false, error };
    throw error;
  }
}

async function outcomeOf<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    if (isHelperError(error)) return { ok: false, error };
    throw error;
  }
}

function parseFormat(run: CommandRun): Format {
  const raw = rawValue('format', run.flags, run.env);
  const text = raw?.text.trim() ?? 'text';
  if (text === 'text' || text === 'json') return text;
  throw new ConfigError({
    code: 'InvalidValue',
    message: `--format: expected text or json for doctor, got ${JSON.stringify(raw?.text ?? '')}`,
    hint: 'use --format json for machines, or leave it out',
  });
}

/** Variables of the environment whose value looks like a JWT: named, never shown. */
function tokenCandidates(run: CommandRun, exclude: string | undefined): TokenCandidate[] {
  const candidates: TokenCandidate[] = [];
  for (const [name, value] of Object.entries(run.env)) {
    if (value === undefined || name === exclude || !looksLikeJwt(value)) continue;
    run.redactor.add(value.trim());
    try {
      const claims = decodeTokenClaims(value.trim(), name);
      candidates.push({ name, iss: claims.iss, aud: claims.aud });
    } catch {
      candidates.push({ name, iss: undefined, aud: undefined });
    }
  }
  return candidates.sort((a, b) => a.name.localeCompare(b.name));
}

async function readTokenState(
  run: CommandRun,
  settings: Outcome<Settings>,
): Promise<{ state: TokenState; token?: string }> {
  const source = settings.ok
    ? settings.value.tokenSource
    : {
        kind: 'env' as const,
        name:
          rawValue('webIdentityTokenName', run.flags, run.env)?.text.trim() ||
          defaultOf('webIdentityTokenName'),
      };
  const name = describeTokenSource(source);
  let token: string;
  try {
    token = await readToken(source, run.env);
  } catch (error) {
    if (!isHelperError(error)) throw error;
    if (error.code === 'MissingToken' && source.kind === 'env') {
      return {
        state: { kind: 'missing', source: name, error, candidates: tokenCandidates(run, source.name) },
      };
    }
    if (error.code === 'MissingToken')
      return { state: { kind: 'missing', source: name, error, candidates: [] } };
    return { state: { kind: 'unreadable', source: name, error } };
  }
  run.redactor.add(token);
  try {
    return { state: { kind: 'found', source: name, claims: decodeTokenClaims(token, name) }, token };
  } catch (error) {
    if (!isHelperError(error)) throw error;
    return { state: { kind: 'malformed', source: name, error } };
  }
}

async function readPolicyText(path: string): Promise<string> {
  try {
    return path === '-' ? await readStream(process.stdin) : await readFile(path, 'utf8');
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'EIO';
    throw new FileError({
      code: 'TrustPolicyUnreadable',
      message: `cannot read the trust policy ${path === '-' ? 'from stdin' : path} (${code})`,
      hint: 'give the path of the role’s template or policy, or - for stdin',
      cause: error,
    });
  }
}

async function loadPolicy(
  run: CommandRun,
  settings: Outcome<Settings>,
  parameters: ReadonlyMap<string, string>,
): Promise<{ name: string; loaded: Outcome<LoadedTrustPolicy> | undefined } | undefined> {
  const given = rawValue('trustPolicy', run.flags, run.env);
  if (given === undefined) return undefined;
  const path = given.text.trim();
  const name = path === '-' ? 'stdin' : path;
  const text = await outcomeOf(() => readPolicyText(path));
  if (!text.ok) return { name, loaded: text };
  if (!settings.ok) return { name, loaded: undefined };
  const { value } = settings;
  return {
    name,
    loaded: outcome(() =>
      loadTrustPolicy(text.value, name, {
        accountId: value.accountId,
        partition: value.partition.id,
        region: value.region,
        urlSuffix: value.partition.dnsSuffix,
        parameters,
        roleName: value.roleName,
      }),
    ),
  };
}

async function live(run: CommandRun, settings: Settings): Promise<LiveInput> {
  const log = debugLogger(run);
  const exchanged = await outcomeOf(() =>
    obtainCredentials(
      { ...settings, cache: { ...settings.cache, enabled: false } },
      {
        env: run.env,
        log,
        secret: (value) => run.redactor.add(value),
        warn: (line) => run.io.stderr(`${run.redactor.redact(`gitlab-aws-credential-helper: ${line}`)}\n`),
      },
    ),
  );
  if (!exchanged.ok) return { exchange: exchanged, callerIdentity: undefined };
  const { credentials, assumedRoleArn, token } = exchanged.value;
  const callerIdentity = await outcomeOf(async () => {
    const network = await (await import('../../platform/agents.js')).agentsForEndpoint(
      settings.endpoint,
      run.env,
      {
        timeoutMs: settings.timeoutMs,
      },
    );
    const { getCallerIdentity } = await import('../../sts/exchange.js');
    return getCallerIdentity(
      credentials,
      { region: settings.region, endpoint: settings.endpoint, roleArn: settings.roleArn, token },
      {
        timeoutMs: settings.timeoutMs,
        httpAgent: network?.httpAgent,
        httpsAgent: network?.httpsAgent,
        proxy: network?.proxy,
        proxyVariable: network?.proxyVariable,
        caBundle: network?.caBundle,
      },
    );
  });
  return {
    exchange: { ok: true, value: { assumedRoleArn, expiration: credentials.expiration } },
    callerIdentity,
  };
}

export async function runDoctor(run: CommandRun): Promise<number> {
  const format = parseFormat(run);
  const parameterFlag = run.flags.parameter;
  const parameters = parseTemplateParameters(
    parameterFlag === undefined
      ? []
      : typeof parameterFlag === 'string'
        ? [parameterFlag]
        : Array.isArray(parameterFlag)
          ? parameterFlag
          : [],
  );
  const settings = outcome(() => resolveSettings('doctor', run.flags, run.env));
  const { state: token } = await readTokenState(run, settings);
  const trustPolicy = await loadPolicy(run, settings, parameters);
  const wantsLive = run.flags.live === true;
  let liveInput: LiveInput | undefined;
  if (wantsLive) {
    liveInput =
      settings.ok && token.kind === 'found'
        ? await live(run, settings.value)
        : { exchange: undefined, callerIdentity: undefined };
  }
  const report = buildDoctorReport({
    now: Date.now(),
    env: run.env,
    flags: run.flags,
    settings,
    token,
    trustPolicy,
    live: liveInput,
  });
  const text = format === 'json' ? renderDoctorJson(report) : renderDoctorText(report);
  run.io.stdout(run.redactor.redact(text));
  return report.ok ? 0 : 1;
}

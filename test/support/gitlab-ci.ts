/**
 * What GitLab does with our CI/CD YAML before a runner sees it, as far as the tests need it: parse
 * `.gitlab-ci.yml` and the component (its `spec:` header and job document), interpolate
 * `$[[ inputs.… ]]` with given or default inputs, expand `$VARIABLE`s in variable values, and run a
 * job's `before_script` and `script` lines in one shell as the runner does.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { type RunResult, run } from '../e2e/harness.js';
import { LAYOUT } from './release.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const COMPONENT_FILE = join(ROOT, 'templates', `${LAYOUT.component}.yml`);

export type CiValue = string | number | boolean | null | CiValue[] | { [key: string]: CiValue };
export type CiMap = { [key: string]: CiValue };

export interface InputSpec {
  readonly description?: string;
  readonly default?: string | number | boolean;
  readonly type?: 'string' | 'number' | 'boolean' | 'array';
  readonly options?: ReadonlyArray<string | number>;
  readonly regex?: string;
}

export interface Component {
  /** The raw text of the job document (after `---`). */
  readonly body: string;
  readonly inputs: Readonly<Record<string, InputSpec>>;
}

function parseYaml(text: string, what: string): CiMap {
  const document = parseDocument(text);
  if (document.errors.length > 0)
    throw new Error(`${what}: ${document.errors.map((e) => e.message).join('; ')}`);
  return document.toJS() as CiMap;
}

export async function loadCiFile(): Promise<CiMap> {
  return parseYaml(await readFile(join(ROOT, '.gitlab-ci.yml'), 'utf8'), '.gitlab-ci.yml');
}

export async function loadComponent(): Promise<Component> {
  const text = await readFile(COMPONENT_FILE, 'utf8');
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents) || documents.length !== 2)
    throw new Error(`${COMPONENT_FILE}: expected a spec header and one job document`);
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${COMPONENT_FILE}: ${document.errors[0]?.message}`);
  }
  const header = documents[0]?.toJS() as { spec?: { inputs?: Record<string, InputSpec> } };
  const separator = text.indexOf('\n---\n');
  return { body: text.slice(separator + '\n---\n'.length), inputs: header.spec?.inputs ?? {} };
}

/** Every `$[[ inputs.<id> ]]` in a text. */
export function inputReferences(text: string): string[] {
  return [...text.matchAll(/\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]/g)].map((match) => match[1] ?? '');
}

/**
 * The job document with every input replaced, as GitLab does at pipeline creation: given inputs are
 * checked against `options` and `regex` (RE2 and JavaScript agree on the ones we use), missing ones
 * take their default.
 */
export function interpolate(component: Component, given: Record<string, string | number | boolean>): CiMap {
  for (const name of Object.keys(given)) {
    if (component.inputs[name] === undefined) throw new Error(`unknown input ${name}`);
  }
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(component.inputs)) {
    const value = given[name] ?? spec.default;
    if (value === undefined) throw new Error(`input ${name} is required`);
    if (spec.options !== undefined && !spec.options.includes(value as string | number))
      throw new Error(`input ${name}: ${String(value)} is not one of ${spec.options.join(', ')}`);
    if (spec.regex !== undefined && !new RegExp(spec.regex).test(String(value)))
      throw new Error(`input ${name}: ${String(value)} does not match ${spec.regex}`);
    if (spec.type === 'number' && typeof value !== 'number')
      throw new Error(`input ${name} must be a number`);
    values[name] = String(value);
  }
  const body = component.body.replace(/\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`the component uses the undeclared input ${name}`);
    return value;
  });
  return parseYaml(body, `${COMPONENT_FILE} after interpolation`);
}

/** `$NAME` and `${NAME}` in a variable's value, expanded from `env` as GitLab does (unknown: empty). */
export function expandVariables(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced, bare) => {
    return env[(braced ?? bare) as string] ?? '';
  });
}

export function stringList(value: CiValue | undefined, what: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw new Error(`${what} is not a list of strings`);
}

export type RunnerShell = 'bash' | 'dash' | 'busybox';

/**
 * Runs the lines in one shell session, stopping at the first failing line, as GitLab Runner does
 * with `before_script` and `script` (bash with errexit and pipefail, a POSIX sh with errexit).
 */
export function runJobLines(
  shell: RunnerShell,
  lines: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<RunResult> {
  const [command, args, prologue] =
    shell === 'bash'
      ? ['bash', ['-c'], 'set -eo pipefail']
      : shell === 'dash'
        ? ['dash', ['-c'], 'set -e']
        : [existsSync('/usr/bin/busybox') ? '/usr/bin/busybox' : '/bin/busybox', ['sh', '-c'], 'set -e'];
  return run(command, [...args, [prologue, ...lines].join('\n')], env, { cwd, timeoutMs: 120_000 });
}

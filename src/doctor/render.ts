/** The doctor's report as a person reads it (`text`) or a machine (`json`). Pure. */
import type { ConditionResult, StatementResult } from '../policy/trust.js';
import { PROGRAM_NAME } from '../version.js';
import type { Check, Verdict } from './check.js';
import type { DoctorReport } from './report.js';

/** Claim values come from the token: control characters are shown escaped, never sent to the terminal. */
function clean(text: string): string {
  return text.replace(/\p{Cc}/gu, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const quote = (value: string): string => clean(JSON.stringify(value));

const VERDICT_LABELS: Record<Verdict, string> = {
  ok: 'ok',
  warning: 'warning',
  problem: 'PROBLEM',
  skipped: 'skipped',
};

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function table(rows: ReadonlyArray<readonly [string, string]>, indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([name]) => name.length)) + 2;
  return rows.map(([name, value]) => `${indent}${name.padEnd(width)}${value}`);
}

function tokenLines(report: DoctorReport): string[] {
  const { token } = report;
  if (!token.present) return [`Token (${clean(token.source)}): none`];
  const rows: Array<readonly [string, string]> = Object.entries(token.claims).map(([name, value]) => [
    name,
    typeof value === 'string' ? clean(value) : value.map(clean).join(', '),
  ]);
  for (const time of token.times) rows.push([time.claim, `${time.utc} (${time.relative})`]);
  return [
    `Token (${clean(token.source)}; decoded without verifying; the token itself is never shown)`,
    ...table(rows),
  ];
}

function settingsLines(report: DoctorReport): string[] {
  if (report.settings.length === 0) return ['Settings: not resolved (see the settings check)'];
  const width = Math.max(...report.settings.map((entry) => entry.value.length));
  const lines = ['Settings (value, then where it came from)'];
  const nameWidth = Math.max(...report.settings.map((entry) => entry.name.length)) + 2;
  for (const entry of report.settings) {
    lines.push(
      `  ${entry.name.padEnd(nameWidth)}${clean(entry.value).padEnd(width + 2)}${clean(entry.source)}`,
    );
    if (entry.note !== undefined) lines.push(`  ${''.padEnd(nameWidth)}${clean(entry.note)}`);
  }
  return lines;
}

function conditionLines(condition: ConditionResult): string[] {
  const actual = condition.actual === undefined ? '(no such key)' : condition.actual.map(quote).join(', ');
  return [
    `    ${condition.ok ? 'ok     ' : 'rejects'}  Condition ${clean(condition.operator)} ${clean(condition.key)}`,
    `               token:  ${actual}`,
    `               policy: ${condition.values.length === 0 ? '(no values)' : condition.values.map(quote).join(', ')}`,
    ...condition.notes.map((note) => `               note: ${clean(note)}`),
  ];
}

function statementLines(statement: StatementResult): string[] {
  const sid = statement.sid === undefined ? '' : ` Sid ${quote(statement.sid)}`;
  return [
    `  Statement[${statement.index}] ${statement.effect}${sid}: ${statement.applies ? 'applies' : 'does not apply'}`,
    `    ${statement.principal.ok ? 'ok     ' : 'rejects'}  Principal  ${clean(statement.principal.explanation)}`,
    `    ${statement.action.ok ? 'ok     ' : 'rejects'}  Action     ${clean(statement.action.explanation)}`,
    ...statement.conditions.flatMap(conditionLines),
  ];
}

const KIND_NAMES = {
  'iam-policy': 'IAM trust policy',
  'get-role': 'aws iam get-role output',
  cloudformation: 'CloudFormation template',
} as const;

function policyLines(report: DoctorReport): string[] {
  const policy = report.trustPolicy;
  if (policy === undefined) return [];
  const role = policy.role;
  const what =
    policy.kind === undefined
      ? ''
      : ` (${KIND_NAMES[policy.kind]}${role?.logicalId === undefined ? '' : `, resource ${clean(role.logicalId)}`})`;
  const lines = [`Trust policy: ${clean(policy.source)}${what}`];
  if (policy.request !== undefined) {
    lines.push(
      `  STS asks: ${policy.request.action} by Federated ${quote(policy.request.principal.federated)}, with`,
    );
    lines.push(
      ...table(
        Object.entries(policy.request.context).map(([key, value]) => [
          clean(key),
          typeof value === 'string' ? quote(value) : value.map(quote).join(', '),
        ]),
        '    ',
      ),
    );
  }
  for (const statement of policy.statements) lines.push(...statementLines(statement));
  if (policy.decision !== undefined) {
    const decision =
      policy.decision === 'allowed'
        ? `allowed by Statement[${policy.matchedStatement ?? 0}]`
        : policy.decision === 'explicit-deny'
          ? `denied explicitly by Statement[${policy.matchedStatement ?? 0}]`
          : 'denied: no Allow statement applies';
    lines.push(`  Decision: ${decision}`);
  }
  return lines;
}

function checkLines(check: Check): string[] {
  const lines = [`  ${VERDICT_LABELS[check.verdict].padEnd(9)}${check.id.padEnd(28)}${clean(check.summary)}`];
  const pad = ' '.repeat(2 + 9 + 28);
  for (const detail of check.details ?? []) lines.push(`${pad}- ${clean(detail)}`);
  if (check.fix !== undefined && check.verdict !== 'ok') {
    const [first, ...rest] = check.fix.split('\n');
    lines.push(`${pad}fix: ${clean(first ?? '')}`, ...rest.map((line) => `${pad}     ${clean(line)}`));
  }
  return lines;
}

export function renderDoctorText(report: DoctorReport): string {
  const sections = [
    [`${PROGRAM_NAME} doctor`],
    tokenLines(report),
    settingsLines(report),
    policyLines(report),
    ['Checks', ...report.checks.flatMap(checkLines)],
    [
      `Result: ${plural(report.problems, 'problem')}, ${plural(report.warnings, 'warning')}; exit ${report.ok ? 0 : 1}`,
    ],
  ].filter((lines) => lines.length > 0);
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

export function renderDoctorJson(report: DoctorReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

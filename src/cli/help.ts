/** Help text, built from the command list and the option table. Loaded only when help is asked for. */
import type { OptionSpec } from '../config/options.js';
import { PROGRAM_NAME } from '../version.js';
import { type CommandInfo, globalOptions, optionsOf, optionUsage } from './argv.js';

const HELP_LINE: readonly [string, string] = ['-h, --help', 'display help for command'];

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}

function optionRows(specs: readonly OptionSpec[]): Array<readonly [string, string]> {
  const rows: Array<readonly [string, string]> = [];
  for (const spec of specs) {
    const fallback = spec.defaultText === undefined ? '' : ` (default: ${spec.defaultText})`;
    const env = spec.env.length === 0 ? '' : ` [env: ${spec.env.join(', ')}]`;
    rows.push([optionUsage(spec), `${spec.description}${fallback}${env}`]);
    if (spec.negatable === true) rows.push([`--no-${spec.flag.slice(2)}`, `turn off ${spec.flag}`]);
  }
  return rows;
}

function commandUsage(command: CommandInfo): string {
  if (command.subcommands !== undefined) return command.name;
  return `${command.name} [options]${command.operands === undefined ? '' : ` ${command.operands}`}`;
}

export function renderHelp(
  path: readonly string[],
  commands: readonly CommandInfo[],
  description: string,
): string {
  const [first, second] = path;
  const command = commands.find((candidate) => candidate.name === first);
  const subcommand = command?.subcommands?.find((candidate) => candidate.name === second);
  const sections: string[] = [];
  if (command === undefined) {
    sections.push(`Usage: ${PROGRAM_NAME} [options] [command]`, description);
    sections.push(
      `Options:\n${table([['-v, --version', 'output the version number'], ...optionRows(globalOptions(commands)), HELP_LINE])}`,
    );
    sections.push(
      `Commands:\n${table([
        ...commands.map((candidate) => [commandUsage(candidate), candidate.summary] as const),
        ['help [command]', 'display help for command'],
      ])}`,
    );
  } else if (command.subcommands !== undefined && subcommand === undefined) {
    sections.push(`Usage: ${PROGRAM_NAME} ${command.name} [options] [command]`, command.summary);
    sections.push(`Options:\n${table([HELP_LINE])}`);
    sections.push(
      `Commands:\n${table(command.subcommands.map((candidate) => [`${candidate.name} [options]`, candidate.summary] as const))}`,
    );
  } else {
    const shown = subcommand ?? command;
    const name = subcommand === undefined ? command.name : `${command.name} ${subcommand.name}`;
    const operands = shown.operands === undefined ? '' : ` ${shown.operands}`;
    sections.push(`Usage: ${PROGRAM_NAME} ${name} [options]${operands}`, shown.summary);
    sections.push(`Options:\n${table([...optionRows(optionsOf(name)), HELP_LINE])}`);
    if (shown.details !== undefined) sections.push(shown.details.trim());
  }
  return `${sections.join('\n\n')}\n`;
}

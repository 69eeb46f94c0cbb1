/**
 * The command line, read against the option table: global flags, a command (or `cache clear`), the
 * command's flags before or after it, and for `env` the command to run. Pure: no output, no exit.
 *
 * Node's util.parseArgs reads one flat list of options; it has no commands, no `--no-` forms with
 * our names, and no way to stop at the first operand (`env CMD --flag` must pass `--flag` to CMD),
 * so this file walks argv itself and leaves values to the settings resolution.
 */
import type { CommandName, OptionSpec } from '../config/options.js';
import { flagLabel, MODES, OPTIONS } from '../config/options.js';
import type { FlagValues } from '../config/resolve.js';

export interface CommandInfo {
  readonly name: string;
  readonly summary: string;
  /** Shown after the options in the command's help. */
  readonly details?: string;
  /** The operands in the usage line, e.g. `[command...]`; absent when it takes none. */
  readonly operands?: string;
  readonly subcommands?: readonly CommandInfo[];
}

export type ParsedArgv =
  | { readonly kind: 'help'; readonly path: readonly string[]; readonly failed: boolean }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'run';
      readonly command: CommandName;
      readonly flags: FlagValues;
      /** For `env -- CMD ARGS`: the command and its arguments. */
      readonly argv: readonly string[];
    }
  | { readonly kind: 'cache-clear'; readonly flags: FlagValues };

/** A command line that cannot be read; the message is what follows `error: `. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const HELP_FLAGS = ['-h', '--help'];
const VERSION_FLAGS = ['-v', '--version'];

export function optionsOf(command: string): readonly OptionSpec[] {
  if (command === 'cache clear') return OPTIONS.filter((spec) => spec.key === 'debug');
  return OPTIONS.filter((spec) => (spec.commands as readonly string[]).includes(command));
}

/** Options that every credential command (mode) takes, and that may therefore stand before the command. */
export function globalOptions(commands: readonly CommandInfo[]): readonly OptionSpec[] {
  const names = commands
    .filter(
      (command) => command.subcommands === undefined && (MODES as readonly string[]).includes(command.name),
    )
    .map((command) => command.name);
  return OPTIONS.filter((spec) => names.every((name) => (spec.commands as readonly string[]).includes(name)));
}

/** How an option is named in messages, as in its help line: `-A, --aws-account <id>`. */
export function optionUsage(spec: OptionSpec): string {
  const flags = flagLabel(spec);
  return spec.value === undefined ? flags : `${flags} <${spec.value}>`;
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest known word, when it is close enough to be a typo: at most 3 edits, 40 % alike. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  let best: { word: string; distance: number } | undefined;
  const bare = (text: string) => text.replace(/^--/, '');
  for (const candidate of known) {
    const d = distance(bare(word), bare(candidate));
    const length = Math.max(bare(word).length, bare(candidate).length);
    const alike = (length - d) / length;
    if (d <= 3 && alike > 0.4 && (best === undefined || d < best.distance)) {
      best = { word: candidate, distance: d };
    }
  }
  return best?.word;
}

function unknownOption(arg: string, specs: readonly OptionSpec[]): UsageError {
  const name = arg.split('=')[0] ?? arg;
  const known = specs.flatMap((spec) => [
    spec.flag,
    ...(spec.negatable === true ? [`--no-${spec.flag.slice(2)}`] : []),
  ]);
  const hint = name.startsWith('--') ? suggest(name, known) : undefined;
  return new UsageError(`unknown option '${arg}'${hint === undefined ? '' : `\n(Did you mean ${hint}?)`}`);
}

function findLong(
  name: string,
  specs: readonly OptionSpec[],
): { spec: OptionSpec; negated: boolean } | undefined {
  for (const spec of specs) {
    if (spec.flag === name || spec.aliases?.includes(name) === true) return { spec, negated: false };
    if (spec.negatable === true && name === `--no-${spec.flag.slice(2)}`) return { spec, negated: true };
  }
  return undefined;
}

/** A repeatable option (`--parameter`) keeps every value in order; any other, the last. */
function setValue(flags: FlagValues, spec: OptionSpec, value: string): void {
  const previous = flags[spec.key];
  flags[spec.key] = spec.repeatable === true ? [...(Array.isArray(previous) ? previous : []), value] : value;
}

/**
 * Reads the option at argv[index] into `flags` and returns the index after it (and its value).
 * A required value is taken from the next word even when it starts with a dash, as Commander did,
 * so `--role-session-name -x` reaches the settings check instead of failing here.
 */
function readOption(
  argv: readonly string[],
  index: number,
  specs: readonly OptionSpec[],
  flags: FlagValues,
): number {
  const arg = argv[index] ?? '';
  if (arg.startsWith('--')) {
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg : arg.slice(0, equals);
    const found = findLong(name, specs);
    if (found === undefined) throw unknownOption(arg, specs);
    const { spec, negated } = found;
    if (spec.value === undefined || negated) {
      if (equals !== -1) throw unknownOption(arg, specs);
      flags[spec.key] = !negated;
      return index + 1;
    }
    if (equals !== -1) {
      setValue(flags, spec, arg.slice(equals + 1));
      return index + 1;
    }
    const value = argv[index + 1];
    if (value === undefined) throw new UsageError(`option '${optionUsage(spec)}' argument missing`);
    setValue(flags, spec, value);
    return index + 2;
  }
  // Short options: `-A 123`, `-A123`, and clusters of switches such as `-eh`.
  for (let position = 1; position < arg.length; position++) {
    const short = `-${arg[position]}`;
    const spec = specs.find((candidate) => candidate.short === short);
    if (spec === undefined) throw unknownOption(position === 1 ? arg : short, specs);
    if (spec.value === undefined) {
      flags[spec.key] = true;
      continue;
    }
    const attached = arg.slice(position + 1);
    if (attached !== '') {
      setValue(flags, spec, attached);
      return index + 1;
    }
    const value = argv[index + 1];
    if (value === undefined) throw new UsageError(`option '${optionUsage(spec)}' argument missing`);
    setValue(flags, spec, value);
    return index + 2;
  }
  return index + 1;
}

const isOption = (arg: string): boolean => arg.startsWith('-') && arg !== '-' && arg !== '--';

function tooMany(command: string, count: number): UsageError {
  return new UsageError(`too many arguments for '${command}'. Expected 0 arguments but got ${count}.`);
}

/**
 * Reads argv. Flags may stand before or after the command; a later one wins. `help`, `-h` and
 * `--help` anywhere before a `--` ask for help on what precedes them.
 */
export function parseArgv(argv: readonly string[], commands: readonly CommandInfo[]): ParsedArgv {
  const globals = globalOptions(commands);
  const flags: FlagValues = {};
  let index = 0;
  while (index < argv.length && isOption(argv[index] ?? '')) {
    const arg = argv[index] ?? '';
    if (HELP_FLAGS.includes(arg)) return { kind: 'help', path: [], failed: false };
    if (VERSION_FLAGS.includes(arg)) return { kind: 'version' };
    index = readOption(argv, index, globals, flags);
  }
  if (argv[index] === '--') index++;
  const name = argv[index];
  if (name === undefined) return { kind: 'help', path: [], failed: true };
  if (name === 'help') {
    const topic = argv[index + 1];
    if (topic === undefined) return { kind: 'help', path: [], failed: false };
    if (!commands.some((command) => command.name === topic)) throw unknownCommand(topic, commands);
    return { kind: 'help', path: [topic], failed: false };
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (command === undefined) throw unknownCommand(name, commands);
  index++;

  if (command.subcommands !== undefined) return parseSubcommand(argv, index, command, flags);

  const specs = optionsOf(command.name);
  const operands: string[] = [];
  while (index < argv.length) {
    const arg = argv[index] ?? '';
    if (arg === '--') {
      operands.push(...argv.slice(index + 1));
      break;
    }
    if (!isOption(arg)) {
      // Everything from the first operand on is the command to run, flags included.
      operands.push(...argv.slice(index));
      break;
    }
    if (HELP_FLAGS.includes(arg)) return { kind: 'help', path: [command.name], failed: false };
    index = readOption(argv, index, specs, flags);
  }
  if (operands.length > 0 && command.operands === undefined) throw tooMany(command.name, operands.length);
  return { kind: 'run', command: command.name as CommandName, flags, argv: operands };
}

function unknownCommand(name: string, commands: readonly CommandInfo[]): UsageError {
  const hint = suggest(
    name,
    commands.map((command) => command.name),
  );
  return new UsageError(`unknown command '${name}'${hint === undefined ? '' : `\n(Did you mean ${hint}?)`}`);
}

/** `cache clear`: the only command with a subcommand. Global --debug before `cache` still counts. */
function parseSubcommand(
  argv: readonly string[],
  start: number,
  command: CommandInfo,
  globalFlags: FlagValues,
): ParsedArgv {
  let index = start;
  const subcommands = command.subcommands ?? [];
  while (index < argv.length && isOption(argv[index] ?? '')) {
    const arg = argv[index] ?? '';
    if (HELP_FLAGS.includes(arg)) return { kind: 'help', path: [command.name], failed: false };
    throw unknownOption(arg, []);
  }
  const name = argv[index];
  if (name === undefined) return { kind: 'help', path: [command.name], failed: true };
  if (name === 'help')
    return { kind: 'help', path: [command.name, ...argv.slice(index + 1, index + 2)], failed: false };
  const subcommand = subcommands.find((candidate) => candidate.name === name);
  if (subcommand === undefined) throw unknownCommand(name, subcommands);
  index++;
  const specs = optionsOf(`${command.name} ${subcommand.name}`);
  const flags: FlagValues = globalFlags.debug === undefined ? {} : { debug: globalFlags.debug };
  while (index < argv.length) {
    const arg = argv[index] ?? '';
    if (HELP_FLAGS.includes(arg))
      return { kind: 'help', path: [command.name, subcommand.name], failed: false };
    if (!isOption(arg)) throw tooMany(`${command.name} ${subcommand.name}`, argv.length - index);
    index = readOption(argv, index, specs, flags);
  }
  return { kind: 'cache-clear', flags };
}

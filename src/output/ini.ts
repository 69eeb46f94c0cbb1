/**
 * A lossless editor for the AWS shared credentials and config files.
 *
 * Only the lines that hold the keys being set or removed change; every other byte (other sections,
 * comments, blank lines, order, CRLF or LF) stays as it was. Reading follows the AWS SDK for
 * JavaScript v3 parser (smithy `parseIni`); where the AWS CLI (botocore, Python `configparser`) reads a
 * line differently, edits are made so that both readers see the values we wrote:
 *
 * - keys match ASCII-case-insensitively and `key: value` counts as a key line, because configparser
 *   lower-cases option names, accepts `:` as a separator, and rejects the whole file when a section
 *   holds the same option twice; a matched line is rewritten with the caller's key and `=`;
 * - an indented line after a key is that key's continuation for configparser (an `s3 =` parent's
 *   nested settings, or a multi-line value), so it is never taken for a key of its own, and a key we
 *   replace or remove takes its continuation lines with it;
 * - header names are compared exactly: neither reader trims `[ name ]` (both see " name ").
 *
 * Pure: no I/O. Invalid input throws a plain `Error` (never echoing a value) for the caller to convert.
 */

/** A key to set in a section; `undefined` removes it. */
export type IniEntry = readonly [key: string, value: string | undefined];

type Eol = '' | '\n' | '\r\n';

interface Line {
  readonly content: string;
  readonly eol: Eol;
}

/** What one body line means to each reader, computed with the state of the lines before it. */
interface BodyLine {
  readonly index: number;
  /** Top-level key as the JS SDK reads it (not a sub-section child, value not empty). */
  readonly sdkKey: string | undefined;
  /** Top-level option as botocore reads it (not a continuation line), lower-cased. */
  readonly botoKey: string | undefined;
  /** Rewriting this line in place keeps it a top-level key for both readers. */
  readonly replaceable: boolean;
  readonly indent: number;
  /** The line starts an SDK sub-section (`s3 =`), so indented key lines after it are its children. */
  readonly sdkParent: boolean;
  readonly isKeyLine: boolean;
}

interface Block {
  readonly header: number;
  /** First line after the next header (or the number of lines). */
  readonly end: number;
}

// The SDK drops everything from a `#` or `;` that starts the line or follows whitespace.
const SDK_COMMENT = /(^|\s)[;#]/;
// configparser's option pattern: the name ends at the first `=` or `:`.
const PY_OPTION = /^(.*?)\s*[=:]\s*(.*)$/;
const KEY_PATTERN = /^[A-Za-z0-9_-]+$/;
// A name the SDK reads as `<prefix> <name>`; with another prefix the SDK ignores the section.
const SDK_PREFIXED_NAME = /^(profile|sso-session|services) [\w\-@+.%:/]+$/;
// The SDK throws on these section names, making the whole file unreadable.
const FORBIDDEN_SECTIONS = new Set(['__proto__', 'profile __proto__']);
// Trimmed by both String.prototype.trim and Python's str.strip (once control characters are excluded).
const EDGE_WHITESPACE = /^\s|\s$/;

/**
 * Returns `text` with `[section]` holding the given keys (value `undefined` removes the key).
 *
 * Existing keys are replaced in place, keeping their indentation and spacing around `=`; new keys are
 * appended after the section's last setting, before blank lines and comments that lead into the next
 * section. A missing section is appended at the end of the file, after one blank line.
 *
 * Duplicate sections: the JS SDK merges them with later keys winning (botocore rejects such a file
 * whatever we do). We write into the last occurrence and remove our keys from earlier ones, so every
 * reader that merges, or keeps only the last occurrence, sees our values and nothing stale.
 */
export function setIniSection(text: string, section: string, entries: ReadonlyArray<IniEntry>): string {
  assertSectionName(section);
  assertEntries(entries);
  const lines = splitLines(text);
  const eol = dominantEol(lines);
  const blocks = findBlocks(lines, section);
  const toSet = entries.filter((entry): entry is readonly [string, string] => entry[1] !== undefined);
  const last = blocks.at(-1);

  if (last === undefined) {
    if (toSet.length === 0) return text;
    const out: Line[] = [...lines];
    const tail = out.at(-1);
    if (tail !== undefined && tail.content.trim() !== '') out.push({ content: '', eol });
    out.push({ content: `[${section}]`, eol });
    for (const [key, value] of toSet) out.push({ content: `${key} = ${value}`, eol });
    return joinLines(out, text, eol);
  }

  const analysed = blocks.map((block) => analyseBody(lines, block));
  const deleted = new Set<number>();
  const replaced = new Map<number, string>();
  const appended: string[] = [];

  for (const [key, value] of entries) {
    const occurrences = analysed.flatMap((body, blockIndex) =>
      body.filter((line) => definesKey(line, key)).map((line) => ({ line, blockIndex, body })),
    );
    const lastBlockIndex = blocks.length - 1;
    const target =
      value === undefined
        ? undefined
        : occurrences.findLast((o) => o.blockIndex === lastBlockIndex && o.line.replaceable);
    for (const occurrence of occurrences) {
      const spanEnd = continuationEnd(occurrence.body, occurrence.line);
      for (let i = occurrence.line.index; i <= spanEnd; i++) deleted.add(i);
    }
    if (target !== undefined && value !== undefined) {
      deleted.delete(target.line.index);
      replaced.set(target.line.index, rewriteKeyLine(lines, target.line, key, value));
    } else if (value !== undefined) {
      appended.push(`${key} = ${value}`);
    }
  }

  const anchor = appendAnchor(lines, last, deleted);
  const out: Line[] = [];
  lines.forEach((line, index) => {
    if (!deleted.has(index)) {
      const content = replaced.get(index);
      out.push(content === undefined ? line : { content, eol: line.eol });
    }
    if (index === anchor) {
      for (const content of appended) out.push({ content, eol });
    }
  });
  return joinLines(out, text, eol);
}

function assertSectionName(section: string): void {
  const problem = sectionNameProblem(section);
  if (problem !== undefined)
    throw new Error(`Invalid INI section name ${JSON.stringify(section)}: ${problem}`);
}

/**
 * Why `section` cannot be a section name that both readers (the AWS CLI and the JS SDK) read back as
 * written, or `undefined` when it can.
 */
export function sectionNameProblem(section: string): string | undefined {
  return section === ''
    ? 'must not be empty'
    : hasControlCharacter(section, false)
      ? 'must not contain line breaks or control characters'
      : /[[\]]/.test(section)
        ? 'must not contain "[" or "]"'
        : /[#;]/.test(section)
          ? 'must not contain "#" or ";" (readers take them for a comment)'
          : EDGE_WHITESPACE.test(section)
            ? 'must not start or end with whitespace'
            : /\s/.test(section) && !SDK_PREFIXED_NAME.test(section)
              ? 'must not contain whitespace, except in "profile <name>" (the AWS SDK ignores such sections)'
              : FORBIDDEN_SECTIONS.has(section)
                ? 'is reserved (the AWS SDK rejects a file containing it)'
                : undefined;
}

function assertEntries(entries: ReadonlyArray<IniEntry>): void {
  const seen = new Set<string>();
  for (const [key, value] of entries) {
    if (!KEY_PATTERN.test(key)) {
      throw new Error(`Invalid INI key ${JSON.stringify(key)}: use only letters, digits, "_" and "-"`);
    }
    const folded = key.toLowerCase();
    if (seen.has(folded)) throw new Error(`INI key "${key}" is given twice`);
    seen.add(folded);
    if (value === undefined) continue;
    // The value is a secret more often than not: describe the problem, never echo the value.
    const problem =
      value === ''
        ? 'must not be empty (an empty value starts a nested section; pass undefined to remove the key)'
        : hasControlCharacter(value, true)
          ? 'must not contain line breaks or control characters'
          : EDGE_WHITESPACE.test(value)
            ? 'must not start or end with whitespace'
            : SDK_COMMENT.test(value)
              ? 'must not start with "#" or ";" or contain them after whitespace (read as a comment)'
              : undefined;
    if (problem !== undefined) throw new Error(`Invalid INI value for key "${key}": ${problem}`);
  }
}

/**
 * C0 and C1 controls, DEL and the Unicode line separators: Python splits lines on some of them, the SDK
 * trims others, and NUL or a line break would let a value forge lines of its own. A tab is harmless.
 */
function hasControlCharacter(text: string, allowTab: boolean): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code === 0x09 && allowTab) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

function splitLines(text: string): Line[] {
  if (text === '') return [];
  const pieces = text.split('\n');
  const lines: Line[] = [];
  pieces.forEach((piece, index) => {
    if (index === pieces.length - 1) {
      if (piece !== '') lines.push({ content: piece, eol: '' });
    } else if (piece.endsWith('\r')) {
      lines.push({ content: piece.slice(0, -1), eol: '\r\n' });
    } else {
      lines.push({ content: piece, eol: '\n' });
    }
  });
  return lines;
}

/**
 * Joins lines, giving a line break to every line but the last, and to the last one only if the original
 * text ended with one (or was empty): a file without a final newline keeps that shape.
 */
function joinLines(lines: ReadonlyArray<Line>, original: string, eol: Eol): string {
  const finalEol = original === '' || original.endsWith('\n');
  return lines
    .map((line, index) => {
      if (index < lines.length - 1) return line.content + (line.eol === '' ? eol : line.eol);
      if (!finalEol) return line.content;
      return line.content + (line.eol === '' ? eol : line.eol);
    })
    .join('');
}

/** CRLF if most line breaks are CRLF, otherwise LF (also for a file with no line breaks). */
function dominantEol(lines: ReadonlyArray<Line>): '\n' | '\r\n' {
  let crlf = 0;
  let lf = 0;
  for (const line of lines) {
    if (line.eol === '\r\n') crlf++;
    else if (line.eol === '\n') lf++;
  }
  return crlf > lf ? '\r\n' : '\n';
}

function sdkStripped(content: string): string {
  return (content.split(SDK_COMMENT)[0] ?? '').trim();
}

function headerName(stripped: string): string | undefined {
  return stripped.length >= 2 && stripped.startsWith('[') && stripped.endsWith(']')
    ? stripped.slice(1, -1)
    : undefined;
}

/** Blank or comment-only for both readers (a line whose trimmed text starts with `#`/`;` is a comment). */
function isBlank(line: Line | undefined): boolean {
  return line !== undefined && sdkStripped(line.content) === '';
}

function isEmpty(line: Line | undefined): boolean {
  return line !== undefined && line.content.trim() === '';
}

function findBlocks(lines: ReadonlyArray<Line>, section: string): Block[] {
  const headers: Array<{ index: number; name: string }> = [];
  lines.forEach((line, index) => {
    const name = headerName(sdkStripped(line.content));
    if (name !== undefined) headers.push({ index, name });
  });
  return headers.flatMap((header, i) =>
    header.name === section ? [{ header: header.index, end: headers[i + 1]?.index ?? lines.length }] : [],
  );
}

function indentOf(content: string): number {
  return content.length - content.trimStart().length;
}

function analyseBody(lines: ReadonlyArray<Line>, block: Block): BodyLine[] {
  const body: BodyLine[] = [];
  let subSection: string | undefined; // SDK state
  let optionIndent = 0; // configparser state: indentation of the current option
  let inOption = false;
  for (let index = block.header + 1; index < block.end; index++) {
    const line = lines[index];
    if (line === undefined || isBlank(line)) continue;
    const { content } = line;
    const indent = indentOf(content);
    const indented = indent > 0;

    const continuation = inOption && indent > optionIndent;
    let botoKey: string | undefined;
    if (!continuation) {
      optionIndent = indent;
      const option = PY_OPTION.exec(content.trim());
      const name = option?.[1]?.trim();
      if (name !== undefined && name !== '') {
        inOption = true;
        botoKey = name.toLowerCase();
      }
    }

    const stripped = sdkStripped(content);
    const eq = stripped.indexOf('=');
    const subSectionBefore = subSection;
    let sdkKey: string | undefined;
    let sdkParent = false;
    if (eq > 0) {
      const name = stripped.slice(0, eq).trim();
      if (stripped.slice(eq + 1).trim() === '') {
        subSection = name;
        sdkParent = true;
      } else {
        if (subSection !== undefined && !indented) subSection = undefined;
        if (subSection === undefined) sdkKey = name;
      }
    }
    body.push({
      index,
      sdkKey,
      botoKey,
      replaceable: !continuation && (!indented || subSectionBefore === undefined),
      indent,
      sdkParent,
      isKeyLine: eq > 0 || botoKey !== undefined,
    });
  }
  return body;
}

function definesKey(line: BodyLine, key: string): boolean {
  return line.sdkKey === key || line.botoKey === key.toLowerCase();
}

/** Last line index belonging to the key on `line`: its continuation lines and sub-section children. */
function continuationEnd(body: ReadonlyArray<BodyLine>, line: BodyLine): number {
  let end = line.index;
  for (const next of body) {
    if (next.index <= line.index) continue;
    const nested = next.indent > line.indent || (line.sdkParent && next.isKeyLine && next.indent > 0);
    if (!nested) break;
    end = next.index;
  }
  // `body` skips blank and comment lines; those between the key and its last nested line go with it.
  return end;
}

function rewriteKeyLine(lines: ReadonlyArray<Line>, line: BodyLine, key: string, value: string): string {
  const content = lines[line.index]?.content ?? '';
  const sdkEq = line.sdkKey === key ? content.indexOf('=') : -1;
  const separator = sdkEq >= 0 ? sdkEq : content.search(/[=:]/);
  // `key: value` (configparser only) becomes `key = value`, the form both readers accept.
  if (content[separator] !== '=') return `${content.slice(0, line.indent)}${key} = ${value}`;
  const before = content.slice(line.indent, separator).match(/\s*$/)?.[0] ?? '';
  const rest = content.slice(separator + 1);
  const after = rest.trim() === '' ? (before === '' ? '' : ' ') : (rest.match(/^[ \t]*/)?.[0] ?? '');
  return `${content.slice(0, line.indent)}${key}${before}=${after}${value}`;
}

function lastSettingLine(
  lines: ReadonlyArray<Line>,
  block: Block,
  deleted?: ReadonlySet<number>,
): number | undefined {
  for (let i = block.end - 1; i > block.header; i--) {
    if (!deleted?.has(i) && !isBlank(lines[i])) return i;
  }
  return undefined;
}

/**
 * Where new keys go: after the last remaining setting of the block, or, in a block without settings,
 * after the header and the comment lines directly under it.
 */
function appendAnchor(lines: ReadonlyArray<Line>, block: Block, deleted: ReadonlySet<number>): number {
  const lastSetting = lastSettingLine(lines, block, deleted);
  if (lastSetting !== undefined) return lastSetting;
  let anchor = block.header;
  for (let i = block.header + 1; i < block.end; i++) {
    if (deleted.has(i)) continue;
    const line = lines[i];
    if (line === undefined || isEmpty(line)) break;
    anchor = i;
  }
  return anchor;
}

export interface IniSyntaxError {
  /** 1-based line number. */
  readonly line: number;
  readonly reason: string;
  /** What to do about it, when that is more than correcting or removing the line. */
  readonly fix?: string;
}

/**
 * The first line the AWS CLI's parser (Python `configparser`) would refuse, so that we never add
 * our profile to a file that the AWS CLI cannot read anyway. The reason never quotes the line,
 * which may hold a secret.
 */
export function findIniSyntaxError(text: string): IniSyntaxError | undefined {
  // configparser reads the file as plain UTF-8 and sees the BOM as the start of the first line.
  if (text.startsWith('\uFEFF')) {
    return {
      line: 1,
      reason: 'preceded by a byte order mark (BOM), which Python’s INI parser does not accept',
      fix: "save the file as UTF-8 without a BOM (sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)",
    };
  }
  const lines = text.split(/\r?\n/);
  let inSection = false;
  let previousWasOption = false;
  let optionIndent = 0;
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim();
    // Like configparser (empty_lines_in_values): blank lines and comments do not end a value.
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const indent = line.length - line.trimStart().length;
    if (previousWasOption && indent > optionIndent) continue;
    // configparser takes any line that starts with `[` and has a `]` later for a header.
    if (/^\[.+\]/.test(trimmed)) {
      inSection = true;
      previousWasOption = false;
      continue;
    }
    if (!inSection) return { line: index + 1, reason: 'a setting before the first [section] header' };
    const match = /^(.*?)\s*[=:]/.exec(trimmed);
    if (match === null)
      return { line: index + 1, reason: 'a line that is neither [section], key = value, nor a comment' };
    if (match[1] === '') return { line: index + 1, reason: 'a setting without a name' };
    previousWasOption = true;
    optionIndent = indent;
  }
  return undefined;
}

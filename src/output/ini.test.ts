import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/core/config';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findIniSyntaxError, type IniEntry, setIniSection } from './ini.js';

const CREDS: IniEntry[] = [
  ['aws_access_key_id', 'ASIANEW'],
  ['aws_secret_access_key', 'secret/NEW+'],
  ['aws_session_token', 'token=='],
];

let dir: string;
let fileCount = 0;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gach-ini-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The AWS SDK for JavaScript's own reading of `text` as a shared credentials file. */
async function sdkRead(text: string): Promise<Record<string, Record<string, string | undefined>>> {
  const filepath = join(dir, `credentials-${fileCount++}`);
  await writeFile(filepath, text);
  const { credentialsFile } = await loadSharedConfigFiles({
    filepath,
    configFilepath: join(dir, 'no-config'),
    ignoreCache: true,
  });
  return credentialsFile;
}

/** The SDK files `[profile x]` in a credentials file under `profile.x`. */
function sdkName(section: string): string {
  return section.startsWith('profile ') ? `profile.${section.slice('profile '.length)}` : section;
}

describe('setIniSection', () => {
  it.each([
    {
      rule: 'creates the section in an empty file, ending with a newline',
      before: '',
      after:
        '[ci]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret/NEW+\naws_session_token = token==\n',
    },
    {
      rule: 'appends a missing section after one blank line',
      before: '[default]\nregion = eu-west-1\n',
      after:
        '[default]\nregion = eu-west-1\n\n[ci]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret/NEW+\naws_session_token = token==\n',
    },
    {
      rule: 'adds no second blank line when the file already ends with one',
      before: '[default]\nregion = eu-west-1\n\n',
      after:
        '[default]\nregion = eu-west-1\n\n[ci]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret/NEW+\naws_session_token = token==\n',
    },
    {
      rule: 'keeps a missing final newline, starting appended content on a new line',
      before: '[default]\nregion = eu-west-1',
      after:
        '[default]\nregion = eu-west-1\n\n[ci]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret/NEW+\naws_session_token = token==',
    },
    {
      rule: 'writes new lines with CRLF in a CRLF file',
      before: '[default]\r\nregion = eu-west-1\r\n',
      after:
        '[default]\r\nregion = eu-west-1\r\n\r\n[ci]\r\naws_access_key_id = ASIANEW\r\naws_secret_access_key = secret/NEW+\r\naws_session_token = token==\r\n',
    },
    {
      rule: 'keeps a BOM',
      before: '\uFEFF[ci]\naws_access_key_id = OLD\n',
      after:
        '\uFEFF[ci]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret/NEW+\naws_session_token = token==\n',
    },
  ])('$rule', ({ before, after }) => {
    expect(setIniSection(before, 'ci', CREDS)).toBe(after);
  });

  it('replaces keys in place, keeping spacing, indentation and line ending of each line', () => {
    const before =
      '[ci]\r\n  aws_access_key_id=OLD\r\n  aws_secret_access_key  =\tOLD\n  aws_session_token =  OLD\r\n';
    expect(setIniSection(before, 'ci', CREDS)).toBe(
      '[ci]\r\n  aws_access_key_id=ASIANEW\r\n  aws_secret_access_key  =\tsecret/NEW+\n  aws_session_token =  token==\r\n',
    );
  });

  it('uses the dominant line ending of a mixed file for new lines', () => {
    const before = '[a]\r\nx = 1\r\ny = 2\n[ci]\r\nregion = eu\r\n';
    expect(setIniSection(before, 'ci', [['output', 'json']])).toBe(
      '[a]\r\nx = 1\r\ny = 2\n[ci]\r\nregion = eu\r\noutput = json\r\n',
    );
  });

  it('appends new keys after the last setting, before what leads into the next section', () => {
    const before = [
      '# credentials',
      '[ci]',
      'region = eu-west-1',
      '# why the role',
      'role_arn = arn:aws:iam::1:role/x',
      '',
      '# production below',
      '[prod]',
      'region = us-east-1',
      '',
    ].join('\n');
    expect(setIniSection(before, 'ci', [['aws_access_key_id', 'ASIANEW']])).toBe(
      before.replace('role/x\n', 'role/x\naws_access_key_id = ASIANEW\n'),
    );
  });

  it('puts keys of a section without settings after its header and the comments right under it', () => {
    const before = '[ci]\n# written by the helper\n\n# next\n[prod]\n';
    expect(setIniSection(before, 'ci', [['aws_access_key_id', 'ASIANEW']])).toBe(
      '[ci]\n# written by the helper\naws_access_key_id = ASIANEW\n\n# next\n[prod]\n',
    );
  });

  it('removes keys whose value is undefined and keeps the rest of the section', () => {
    const before = '[ci]\naws_access_key_id = A\naws_session_token = T\nregion = eu\n[x]\nk = v';
    expect(
      setIniSection(before, 'ci', [
        ['aws_session_token', undefined],
        ['aws_access_key_id', 'B'],
      ]),
    ).toBe('[ci]\naws_access_key_id = B\nregion = eu\n[x]\nk = v');
    expect(
      setIniSection('[ci]\nregion = eu\naws_session_token = T', 'ci', [['aws_session_token', undefined]]),
    ).toBe('[ci]\nregion = eu');
  });

  it('changes nothing when only removing keys from a missing section', () => {
    const before = '[default]\nregion = eu\n';
    expect(setIniSection(before, 'ci', [['aws_session_token', undefined]])).toBe(before);
  });

  it('matches keys case-insensitively and `key: value` lines, rewriting them for both readers', () => {
    // botocore lower-cases option names and accepts `:`; a second spelling would make it reject the file.
    const before =
      '[ci]\nAWS_ACCESS_KEY_ID = OLD # rotated\naws_secret_access_key: OLD\nAws_Session_Token=OLD\n';
    expect(setIniSection(before, 'ci', CREDS)).toBe(
      '[ci]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret/NEW+\naws_session_token=token==\n',
    );
  });

  it('treats nested sub-section settings as part of their parent, not as keys', async () => {
    const before =
      '[ci]\nregion = eu\ns3 =\n  aws_access_key_id = nested\n  addressing_style = path\n\n[x]\n';
    const after = setIniSection(before, 'ci', [['aws_access_key_id', 'ASIANEW']]);
    expect(after).toBe(
      '[ci]\nregion = eu\ns3 =\n  aws_access_key_id = nested\n  addressing_style = path\naws_access_key_id = ASIANEW\n\n[x]\n',
    );
    expect((await sdkRead(after)).ci).toEqual({
      region: 'eu',
      's3.aws_access_key_id': 'nested',
      's3.addressing_style': 'path',
      aws_access_key_id: 'ASIANEW',
    });
  });

  it('replaces a key together with its continuation lines', () => {
    // configparser reads the indented line as part of the value; keeping it would corrupt the new value.
    const before = '[ci]\naws_secret_access_key = OLD\n  more-old\nregion = eu\n';
    expect(setIniSection(before, 'ci', [['aws_secret_access_key', 'NEW']])).toBe(
      '[ci]\naws_secret_access_key = NEW\nregion = eu\n',
    );
  });

  it('replaces the last of repeated keys in a section and removes the others', () => {
    const before = '[ci]\naws_access_key_id = A\nregion = eu\naws_access_key_id = B\n';
    expect(setIniSection(before, 'ci', [['aws_access_key_id', 'C']])).toBe(
      '[ci]\nregion = eu\naws_access_key_id = C\n',
    );
  });

  it('writes duplicate sections so that the SDK reads our values', async () => {
    const before = '[ci]\naws_access_key_id = FIRST\nregion = eu\n\n[x]\nk = v\n\n[ci]\noutput = json\n';
    const after = setIniSection(before, 'ci', CREDS);
    expect(after).toBe(
      '[ci]\nregion = eu\n\n[x]\nk = v\n\n[ci]\noutput = json\naws_access_key_id = ASIANEW\naws_secret_access_key = secret/NEW+\naws_session_token = token==\n',
    );
    expect((await sdkRead(after)).ci).toEqual({
      region: 'eu',
      output: 'json',
      aws_access_key_id: 'ASIANEW',
      aws_secret_access_key: 'secret/NEW+',
      aws_session_token: 'token==',
    });
  });

  it('matches header names exactly, as the SDK and the AWS CLI do', async () => {
    // Neither reader trims inside the brackets: `[ ci ]` is the profile " ci ", so it is left alone.
    const before = '[ ci ]\naws_access_key_id = OTHER\n[CI]\nk = v\n  [ci]  # ours\nregion = eu\n';
    const after = setIniSection(before, 'ci', [['aws_access_key_id', 'ASIANEW']]);
    expect(after).toBe(`${before}aws_access_key_id = ASIANEW\n`);
    const sdk = await sdkRead(after);
    expect(sdk[' ci ']).toEqual({ aws_access_key_id: 'OTHER' });
    expect(sdk.ci).toEqual({ region: 'eu', aws_access_key_id: 'ASIANEW' });
  });

  it('edits `[profile name]` sections of the config file', async () => {
    const before = '[default]\nregion = eu\n[profile ci]\nregion = us-east-1\n';
    const after = setIniSection(before, 'profile ci', [
      ['credential_process', '/usr/bin/helper process --x=1'],
    ]);
    expect(after).toBe(`${before}credential_process = /usr/bin/helper process --x=1\n`);
    expect((await sdkRead(after))['profile.ci']).toEqual({
      region: 'us-east-1',
      credential_process: '/usr/bin/helper process --x=1',
    });
  });

  it('is idempotent', () => {
    const before = '[a]\r\nx = 1\r\n[ci]\r\nAWS_ACCESS_KEY_ID: old\r\n';
    const once = setIniSection(before, 'ci', CREDS);
    expect(setIniSection(once, 'ci', CREDS)).toBe(once);
  });

  it.each([
    ['', 'must not be empty'],
    ['a\nb', 'line breaks'],
    ['a\u0000b', 'control characters'],
    ['a]b', '"[" or "]"'],
    ['[a', '"[" or "]"'],
    ['a#b', '"#" or ";"'],
    [' ci', 'whitespace'],
    ['my profile', 'whitespace'],
    ['__proto__', 'reserved'],
    ['profile __proto__', 'reserved'],
  ])('rejects the section name %j', (section, problem) => {
    expect(() => setIniSection('', section, CREDS)).toThrow(problem);
  });

  it.each([
    ['line\nbreak', 'line breaks'],
    ['carriage\rreturn', 'line breaks'],
    ['nul\u0000byte', 'control characters'],
    ['sep\u2028arator', 'line breaks'],
    ['', 'must not be empty'],
    [' padded', 'whitespace'],
    ['padded\t', 'whitespace'],
    ['#hash', 'comment'],
    ['a ;b', 'comment'],
  ])('rejects the value %j without echoing it', (value, problem) => {
    const attempt = () => setIniSection('', 'ci', [['aws_session_token', value]]);
    expect(attempt).toThrow(problem);
    expect(attempt).toThrow(/^Invalid INI value for key "aws_session_token": /);
  });

  it.each([['a b'], ['a=b'], ['a.b'], ['']])('rejects the key %j', (key) => {
    expect(() => setIniSection('', 'ci', [[key, 'v']])).toThrow('Invalid INI key');
  });

  it('rejects the same key given twice', () => {
    expect(() =>
      setIniSection('', 'ci', [
        ['region', 'a'],
        ['REGION', 'b'],
      ]),
    ).toThrow('given twice');
  });
});

// ---------------------------------------------------------------------------------------------------
// Property tests: random files with comments, CRLF/LF mixes, Unicode, sub-sections, duplicate
// sections, blank lines and no final newline.

const OUR_KEYS = ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'] as const;
const FILE_KEYS = [...OUR_KEYS, 'AWS_ACCESS_KEY_ID', 'Aws_Session_Token', 'region', 'output', 'x-y', 'ключ'];
const SECTIONS = ['default', 'ci', 'prod-1', 'prød', 'profile ci', 'ci.job'];

function textOf(chars: string, minLength: number) {
  return fc
    .array(fc.constantFrom(...chars), { minLength, maxLength: 12 })
    .map((parts) => parts.join('').trim())
    .filter((s) => s.length >= minLength && !/(^|\s)[;#]/.test(s));
}
const otherValue = textOf('Az09+/=:.-_é漢🙂 #;[]', 1);
const ourValue = textOf('AZaz09+/=é漢🙂 ', 1);
const commentText = fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ''));
const spacing = fc.constantFrom('', ' ', '  ', '\t');

type Item = { key?: string; lines: string[] };
const keyValue = fc
  .record({
    key: fc.constantFrom(...FILE_KEYS),
    a: spacing,
    b: spacing,
    value: otherValue,
    note: fc.boolean(),
  })
  .map(
    ({ key, a, b, value, note }): Item => ({
      key,
      lines: [`${key}${a}=${b}${value}${note ? ' # note' : ''}`],
    }),
  );
const subSection = fc
  .record({
    key: fc.constantFrom(...FILE_KEYS, 's3'),
    children: fc.array(fc.tuple(fc.constantFrom(...FILE_KEYS), otherValue), { minLength: 1, maxLength: 3 }),
  })
  .map(
    ({ key, children }): Item => ({ key, lines: [`${key} =`, ...children.map(([k, v]) => `  ${k} = ${v}`)] }),
  );
const comment = fc
  .tuple(fc.constantFrom('#', ';', '  #', '# ['), commentText)
  .map(([mark, text]): Item => ({ lines: [`${mark}${text}`] }));
const blank = fc.constantFrom('', '  ').map((line): Item => ({ lines: [line] }));
// An indented header is a header for the SDK but a continuation line for botocore: not in strict files.
const header = (strict: boolean) =>
  fc
    .record({
      name: fc.constantFrom(...SECTIONS),
      lead: strict ? fc.constant('') : fc.constantFrom('', ' '),
      trail: fc.constantFrom('', ' ', ' # h'),
    })
    .map(({ name, lead, trail }) => ({ name, line: `${lead}[${name}]${trail}` }));

interface GeneratedFile {
  text: string;
  /** Section names in file order; with `strict`, unique, as botocore requires. */
  names: string[];
}

function iniFile(strict: boolean): fc.Arbitrary<GeneratedFile> {
  const section = fc.record({
    header: header(strict),
    body: fc.array(fc.oneof(keyValue, keyValue, subSection, comment, blank), { maxLength: 8 }),
  });
  return fc
    .record({
      bom: strict ? fc.constant(false) : fc.boolean(),
      preamble: fc.array(fc.oneof(comment, blank), { maxLength: 3 }),
      sections: fc.array(section, { maxLength: 5 }),
      eols: fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 80, maxLength: 80 }),
      finalEol: fc.boolean(),
    })
    .map(({ bom, preamble, sections, eols, finalEol }) => {
      const seen = new Set<string>();
      const kept = strict
        ? sections.filter((s) => !seen.has(s.header.name) && seen.add(s.header.name))
        : sections;
      const lines = preamble.flatMap((item) => item.lines);
      for (const { header: h, body } of kept) {
        lines.push(h.line);
        // botocore rejects a section naming an option twice (case-insensitively); keep the first.
        const keys = new Set<string>();
        for (const item of body) {
          if (item.key !== undefined) {
            if (keys.has(item.key.toLowerCase())) continue;
            keys.add(item.key.toLowerCase());
          }
          lines.push(...item.lines);
        }
      }
      let text = lines.map((line, i) => line + (eols[i % eols.length] ?? '\n')).join('');
      if (!finalEol) text = text.replace(/\r?\n$/, '');
      return { text: (bom ? '\uFEFF' : '') + text, names: kept.map((s) => s.header.name) };
    });
}

const edit = fc.record({
  section: fc.constantFrom(...SECTIONS),
  entries: fc
    .subarray([...OUR_KEYS, 'region'], { minLength: 1 })
    .chain((keys) =>
      fc.tuple(...keys.map((key) => fc.option(ourValue, { nil: undefined }).map((v): IniEntry => [key, v]))),
    ),
});

/** Splits text at header lines (SDK rule), keeping every byte: the preamble has name null. */
function blocksOf(text: string): Array<{ name: string | null; text: string }> {
  const blocks: Array<{ name: string | null; text: string }> = [{ name: null, text: '' }];
  for (const line of text.split(/(?<=\n)/)) {
    const stripped = (line.replace(/\r?\n$/, '').split(/(^|\s)[;#]/)[0] ?? '').trim();
    if (stripped.length >= 2 && stripped.startsWith('[') && stripped.endsWith(']')) {
      blocks.push({ name: stripped.slice(1, -1), text: line });
    } else {
      const last = blocks.at(-1);
      if (last) last.text += line;
    }
  }
  return blocks;
}

/** What the SDK should read in the edited section: untouched keys, minus ours, plus ours. */
function expectedSection(
  before: Record<string, string | undefined> | undefined,
  entries: ReadonlyArray<IniEntry>,
): Record<string, string | undefined> {
  const ours = new Set(entries.map(([key]) => key.toLowerCase()));
  const expected: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(before ?? {})) {
    const parent = key.split('.')[0] ?? key;
    if (!ours.has(key.toLowerCase()) && !ours.has(parent.toLowerCase())) expected[key] = value;
  }
  for (const [key, value] of entries) if (value !== undefined) expected[key] = value;
  return expected;
}

describe('INI properties', () => {
  it('editing one section leaves every other section byte-identical', () => {
    fc.assert(
      fc.property(iniFile(false), edit, (file, { section, entries }) => {
        const after = setIniSection(file.text, section, entries);
        const others = (text: string) => blocksOf(text).filter((b) => b.name !== section);
        const was = others(file.text);
        const now = others(after);
        expect(now.map((b) => b.name)).toEqual(was.map((b) => b.name));
        const appended = !file.names.includes(section);
        now.forEach((block, i) => {
          const old = was[i]?.text ?? '';
          if (appended && i === now.length - 1) {
            // A new section may add a line break and a blank line to the block before it.
            expect(block.text.startsWith(old)).toBe(true);
            expect(block.text.slice(old.length)).toMatch(/^(\r?\n)?(\r?\n)?$/);
          } else {
            expect(block.text).toBe(old);
          }
        });
      }),
      { numRuns: 500 },
    );
  });

  it('the SDK reads back exactly what we wrote, and the rest of the file as before', async () => {
    await fc.assert(
      fc.asyncProperty(iniFile(false), edit, async (file, { section, entries }) => {
        const after = setIniSection(file.text, section, entries);
        const [sdkBefore, sdkAfter] = [await sdkRead(file.text), await sdkRead(after)];
        const name = sdkName(section);
        expect(sdkAfter[name] ?? {}).toEqual(expectedSection(sdkBefore[name], entries));
        expect({ ...sdkAfter, [name]: undefined }).toEqual({ ...sdkBefore, [name]: undefined });
      }),
      { numRuns: 200 },
    );
  });

  it('editing twice with the same values is idempotent', () => {
    fc.assert(
      fc.property(iniFile(false), edit, (file, { section, entries }) => {
        const once = setIniSection(file.text, section, entries);
        expect(setIniSection(once, section, entries)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  // botocore comes with the AWS CLI v1 (pip); .ci/run makes sure it is there.
  const python = spawnSync('python3', ['-c', 'import botocore.configloader'], { encoding: 'utf8' });
  const noBotocore = python.status === 0 ? undefined : 'python3 cannot import botocore (pip install awscli)';
  const underCi = process.env.CI === 'true';
  it.skipIf(noBotocore !== undefined && !underCi)(
    noBotocore === undefined || underCi
      ? 'the AWS CLI parser (botocore) reads back what we wrote'
      : `the AWS CLI parser (botocore) reads back what we wrote — SKIPPED: ${noBotocore}; with CI=true this fails instead`,
    async () => {
      expect(noBotocore, 'CI=true requires botocore').toBeUndefined();
      const samples = fc.sample(fc.tuple(iniFile(true), edit), { numRuns: 150, seed: 42 });
      const paths: string[] = [];
      for (const [i, [file, { section, entries }]] of samples.entries()) {
        const before = join(dir, `before-${i}`);
        const after = join(dir, `after-${i}`);
        await writeFile(before, file.text);
        await writeFile(after, setIniSection(file.text, section, entries));
        paths.push(before, after);
      }
      const script = [
        'import json, sys',
        'from botocore.configloader import raw_config_parse',
        'out = []',
        'for path in json.load(sys.stdin):',
        '    try:',
        '        out.append(raw_config_parse(path))',
        '    except Exception as error:',
        "        out.append({'__error__': repr(error)})",
        'print(json.dumps(out))',
      ].join('\n');
      const run = spawnSync('python3', ['-c', script], {
        input: JSON.stringify(paths),
        encoding: 'utf8',
        env: { ...process.env, PYTHONUTF8: '1' },
      });
      expect(run.stderr).toBe('');
      const parsed = JSON.parse(run.stdout) as Array<Record<string, Record<string, unknown>>>;
      samples.forEach(([file, { section, entries }], i) => {
        const before = parsed[2 * i];
        const after = parsed[2 * i + 1];
        expect(before?.__error__, file.text).toBeUndefined();
        expect(after?.__error__).toBeUndefined();
        const read = after?.[section] ?? {};
        for (const [key, value] of entries) expect(read[key]).toBe(value);
        for (const name of Object.keys(before ?? {})) {
          if (name !== section) expect(after?.[name]).toEqual(before?.[name]);
        }
      });
    },
  );

  it.skipIf(noBotocore !== undefined && !underCi)(
    'botocore refuses a file that starts with a BOM, and findIniSyntaxError says so first',
    async () => {
      expect(noBotocore, 'CI=true requires botocore').toBeUndefined();
      const file = join(dir, 'bom-credentials');
      const text = '\uFEFF[default]\naws_access_key_id = AKIAEXAMPLE\n';
      await writeFile(file, text);
      const run = spawnSync(
        'python3',
        [
          '-c',
          'import sys\nfrom botocore.configloader import raw_config_parse\nraw_config_parse(sys.argv[1])',
          file,
        ],
        { encoding: 'utf8' },
      );
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/ConfigParseError: Unable to parse config file/);
      expect(findIniSyntaxError(text)?.line).toBe(1);
      // Without the BOM, both are content.
      await writeFile(file, text.slice(1));
      expect(
        spawnSync('python3', [
          '-c',
          'import sys\nfrom botocore.configloader import raw_config_parse\nraw_config_parse(sys.argv[1])',
          file,
        ]).status,
      ).toBe(0);
      expect(findIniSyntaxError(text.slice(1))).toBeUndefined();
    },
  );
});

describe('findIniSyntaxError', () => {
  it('refuses a byte order mark, which botocore (the AWS CLI) cannot read', () => {
    expect(findIniSyntaxError('\uFEFF[default]\r\nregion: eu-west-1\r\n')).toEqual({
      line: 1,
      reason: 'preceded by a byte order mark (BOM), which Python’s INI parser does not accept',
      fix: "save the file as UTF-8 without a BOM (sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)",
    });
  });

  it.each([
    ['', undefined],
    ['# only a comment\n\n', undefined],
    ['[default]\naws_access_key_id = A\ns3 =\n  max_concurrent_requests = 2\n', undefined],
    ['[default]\r\nregion: eu-west-1\r\n', undefined],
    ['[a]\nkey = first\n  continued\n', undefined],
    ['[a]\nkey = first\n\n  still the value after a blank line\n', undefined],
    ['  [indented header]\nk=v\n', undefined],
    ['[default] # a comment after the header\nk=v\n', undefined],
    ['key = value\n[default]\n', { line: 1, reason: 'a setting before the first [section] header' }],
    [
      '[default]\njust words\n',
      { line: 2, reason: 'a line that is neither [section], key = value, nor a comment' },
    ],
    ['[default]\n= value\n', { line: 2, reason: 'a setting without a name' }],
    [
      '[default]\n\n  indented after a blank\n',
      { line: 3, reason: 'a line that is neither [section], key = value, nor a comment' },
    ],
  ])('%j → %j', (text, expected) => {
    expect(findIniSyntaxError(text)).toEqual(expected);
  });
});

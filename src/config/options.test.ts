import { describe, expect, it } from 'vitest';
import { OPTIONS, renderOptionsMarkdown } from './options.js';

describe('the option table', () => {
  const withDefaults = OPTIONS.filter((spec) => spec.defaultValue !== undefined);

  it('holds defaults its own parsers give back, so that a default could also have been typed', () => {
    expect(withDefaults.length).toBeGreaterThanOrEqual(10);
    for (const spec of withDefaults) {
      expect(spec.parse(String(spec.defaultValue), spec.flag), spec.flag).toEqual(spec.defaultValue);
    }
  });

  it('shows each default value in help and in the README table, in words for switches', () => {
    const markdown = renderOptionsMarkdown();
    for (const spec of withDefaults) {
      const shown =
        typeof spec.defaultValue === 'boolean'
          ? spec.defaultValue
            ? 'on'
            : 'off'
          : String(spec.defaultValue);
      expect(spec.defaultText, spec.flag).toBe(shown);
      const row = markdown.split('\n').find((line) => new RegExp(`${spec.flag}( <|\`)`).test(line));
      expect(row, spec.flag).toContain(`| \`${shown}\` |`);
    }
  });

  it('describes the default of every option that has no default value: required, or a rule', () => {
    for (const spec of OPTIONS.filter((option) => option.defaultValue === undefined)) {
      expect(spec.defaultText, spec.flag).toBeDefined();
    }
  });
});

/** Small text rules shared by messages and settings. */

/** Every run of white space (line breaks included) as one space, trimmed. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The text up to its first line break. */
export function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** The text trimmed, or `undefined` when there is none: an empty variable counts as unset. */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Text of messages that must stay on one line: a multi-line cause would break "one line on stderr". */

/** Every run of white space (line breaks included) as one space, trimmed. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The text up to its first line break. */
export function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

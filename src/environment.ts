/** The process environment as the helper reads it: a snapshot, never `process.env` itself. */
export type Environment = Readonly<Record<string, string | undefined>>;

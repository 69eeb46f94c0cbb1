/** One finding of `doctor`: a verdict, what was found, and for a problem or warning the next step. */
export type Verdict = 'ok' | 'warning' | 'problem' | 'skipped';

export interface Check {
  /** Stable identifier, e.g. `token-expiry` (the README lists them). */
  readonly id: string;
  readonly verdict: Verdict;
  /** What was found, in one sentence. */
  readonly summary: string;
  /** For a problem or a warning: the next step. */
  readonly fix?: string;
  /** Supporting lines, e.g. the parts of `sub` that differ. */
  readonly details?: readonly string[];
}

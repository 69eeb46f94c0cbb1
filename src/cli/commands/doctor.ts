import type { CommandRun } from '../run.js';

export async function runDoctor(_run: CommandRun): Promise<number> {
  return 1;
}

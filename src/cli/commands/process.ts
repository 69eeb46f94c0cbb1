import { formatCredentialProcessJson } from '../../output/formats.js';
import type { CommandRun } from '../run.js';
import { obtainForRun } from './shared.js';

export async function runProcess(run: CommandRun): Promise<number> {
  const { credentials } = await obtainForRun(run);
  run.io.stdout(`${formatCredentialProcessJson(credentials)}\n`);
  return 0;
}

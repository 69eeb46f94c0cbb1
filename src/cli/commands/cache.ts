import { clearCache } from '../../cache/directory.js';
import type { Environment } from '../../environment.js';
import { PROGRAM_NAME } from '../../version.js';
import type { CliIo } from '../run.js';

export async function runCacheClear(env: Environment, io: CliIo, debug: boolean): Promise<number> {
  const log = debug ? (line: string) => io.stderr(`[debug] ${line}\n`) : undefined;
  const removed = await clearCache(env, log === undefined ? {} : { log });
  io.stderr(`${PROGRAM_NAME}: removed ${removed} cached credential ${removed === 1 ? 'set' : 'sets'}\n`);
  return 0;
}

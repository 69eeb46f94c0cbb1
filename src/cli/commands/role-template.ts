import { resolveRoleTemplateOptions } from '../../templates/options.js';
import { renderRoleTemplate } from '../../templates/role.js';
import type { CommandRun } from '../run.js';

export async function runRoleTemplate(run: CommandRun): Promise<number> {
  const { format, input } = resolveRoleTemplateOptions(run.flags, run.env);
  run.io.stdout(renderRoleTemplate(format, input));
  return 0;
}

import { FileError } from '../../errors.js';
import { formatExpiration, profileEntries } from '../../output/formats.js';
import { findIniSyntaxError, setIniSection } from '../../output/ini.js';
import { updateFileSecurely } from '../../platform/files.js';
import { sharedCredentialsFilePath } from '../../platform/paths.js';
import { PROGRAM_NAME } from '../../version.js';
import type { CommandRun } from '../run.js';
import { debugLogger, obtainForRun } from './shared.js';

export async function runAwsProfile(run: CommandRun): Promise<number> {
  // Resolve the path before the exchange so that a missing HOME fails without an STS call.
  const path = sharedCredentialsFilePath(run.env);
  const { credentials, settings, assumedRoleArn } = await obtainForRun(run);
  const entries = profileEntries(credentials);
  const edit = (current: string | undefined): string => {
    const syntaxError = findIniSyntaxError(current ?? '');
    if (syntaxError !== undefined) {
      throw new FileError({
        code: 'InvalidCredentialsFile',
        message: `${path} is not a valid INI file: line ${syntaxError.line} is ${syntaxError.reason}, so the AWS CLI cannot read it either`,
        hint: `${syntaxError.fix?.replace('FILE', path) ?? `correct or remove line ${syntaxError.line} of ${path}`}, or point AWS_SHARED_CREDENTIALS_FILE at another file`,
      });
    }
    return setIniSection(current ?? '', settings.profileName, entries);
  };
  await updateFileSecurely(path, edit, {
    pathSetting: 'AWS_SHARED_CREDENTIALS_FILE',
    log: debugLogger(run),
  });
  run.io.stderr(
    run.redactor.redact(
      `${PROGRAM_NAME}: wrote profile [${settings.profileName}] to ${path}` +
        `${assumedRoleArn === undefined ? '' : ` for ${assumedRoleArn}`}, valid until ${formatExpiration(credentials.expiration)}\n`,
    ),
  );
  return 0;
}

/** Where the AWS tools and this tool keep their files, as the AWS CLI and SDKs resolve them. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Environment } from '../environment.js';
import { ConfigError } from '../errors.js';

function homeDirectory(env: Environment): string {
  const home = env.HOME?.trim() || env.USERPROFILE?.trim() || safeHomedir();
  if (home === undefined || home === '') {
    throw new ConfigError({
      code: 'NoHomeDirectory',
      message: 'cannot find the home directory: HOME is not set',
      hint: 'set HOME, or set AWS_SHARED_CREDENTIALS_FILE to the credentials file path',
    });
  }
  return home;
}

function safeHomedir(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

function expandHome(path: string, env: Environment): string {
  return path === '~' || path.startsWith('~/') ? join(homeDirectory(env), path.slice(1)) : path;
}

export function sharedCredentialsFilePath(env: Environment): string {
  const configured = env.AWS_SHARED_CREDENTIALS_FILE?.trim();
  if (configured) return resolve(expandHome(configured, env));
  return join(homeDirectory(env), '.aws', 'credentials');
}

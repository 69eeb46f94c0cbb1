/**
 * Where a release goes and what it is called, derived from scripts/release.json (the one place the
 * names are stated), plus a local stand-in for GitLab's generic package registry: the tests hold
 * the README, the CI/CD component and .gitlab-ci.yml to these names and download from the stand-in.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import layout from '../../scripts/release.json' with { type: 'json' };

export const VERSION: string = packageJson.version;
export const PROGRAM: string = layout.program;
export const LAYOUT = layout;
export type TargetName = keyof typeof layout.targets;
export const TARGET_NAMES = Object.keys(layout.targets) as TargetName[];

export function archiveName(target: TargetName, version = VERSION): string {
  return `${PROGRAM}_${version}_${layout.targets[target].archive}.tar.gz`;
}

/** Every file a release publishes in the generic package, in SHA256SUMS order, then SHA256SUMS. */
export function releaseFiles(version = VERSION): string[] {
  return [...TARGET_NAMES.map((target) => archiveName(target, version)), 'SHA256SUMS'];
}

/** The generic package of every version; the files of one are under `<this>/<version>/`. */
export const PACKAGE_REGISTRY = `https://${layout.gitlab}/api/v4/projects/${encodeURIComponent(layout.project)}/packages/generic/${layout.genericPackage}`;
export const IMAGE = `${layout.registry}/${layout.project}`;
export const IMAGE_ARCHIVE = `${PROGRAM}_${VERSION}_${layout.targets[layout.imageTarget as TargetName].archive}-image.oci.tar`;
export const COMPONENT = `${layout.gitlab}/${layout.project}/${layout.component}`;
export const PROJECT_URL = `https://${layout.gitlab}/${layout.project}`;

export interface PackageRegistry {
  /** `http://127.0.0.1:PORT/packages/generic/<package>`: the files are under `<url>/<version>/`. */
  readonly url: string;
  /** Requests received, oldest first. */
  readonly requests: ReadonlyArray<{ method: string; path: string; headers: IncomingMessage['headers'] }>;
  stop(): Promise<void>;
}

/**
 * Serves the files of `directory` as version `version` of the generic package, like GitLab's
 * download endpoint; `requireJobToken` answers 401 to a request without that JOB-TOKEN header.
 */
export async function servePackageRegistry(
  directory: string,
  options: { version?: string; requireJobToken?: string } = {},
): Promise<PackageRegistry> {
  const version = options.version ?? VERSION;
  const prefix = `/packages/generic/${layout.genericPackage}/${version}/`;
  const requests: Array<{ method: string; path: string; headers: IncomingMessage['headers'] }> = [];
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    requests.push({ method: request.method ?? '', path, headers: request.headers });
    if (options.requireJobToken !== undefined && request.headers['job-token'] !== options.requireJobToken) {
      response.writeHead(401).end('{"message":"401 Unauthorized"}');
      return;
    }
    const name = path.startsWith(prefix) ? decodeURIComponent(path.slice(prefix.length)) : '';
    if (request.method !== 'GET' || name === '' || name.includes('/')) {
      response.writeHead(404).end('{"message":"404 Not Found"}');
      return;
    }
    readFile(join(directory, name)).then(
      (body) => response.writeHead(200, { 'content-length': body.length }).end(body),
      () => response.writeHead(404).end('{"message":"404 Not Found"}'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/packages/generic/${layout.genericPackage}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A container registry on 127.0.0.1 for the release job's push: Debian's docker-registry (the
 * CNCF distribution registry that GitLab's container registry is built on) over TLS with the test
 * PKI's certificate and one htpasswd user, started and stopped by the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestPki } from '../network/tls.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
export const REGISTRY_USER = 'gitlab-ci-token';
export const REGISTRY_PASSWORD = 'test-registry-password';
/** bcrypt of REGISTRY_PASSWORD: the registry's htpasswd accepts nothing else. */
const PASSWORD_HASH = '$2b$12$BLdx7YUfqcq0Q6xl0hcAv.lAbvd0I2N7jOrSJCRrHfEPOIC0mpZtW';

export interface Registry {
  /** `127.0.0.1:PORT`, as CI_REGISTRY. */
  readonly host: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function answers(host: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const probe = request({
      host: '127.0.0.1',
      port: Number(host.split(':')[1]),
      path: '/v2/',
      ca,
      timeout: 1000,
    });
    probe.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    probe.on('error', () => resolve(0));
    probe.on('timeout', () => probe.destroy());
    probe.end();
  });
}

export async function startRegistry(pki: TestPki, caPem: string): Promise<Registry> {
  if (!existsSync(REGISTRY_BINARY))
    throw new Error(`${REGISTRY_BINARY} is missing: apt-get install docker-registry`);
  const dir = await mkdtemp(join(tmpdir(), 'gach-registry-'));
  const host = `127.0.0.1:${await freePort()}`;
  await writeFile(join(dir, 'htpasswd'), `${REGISTRY_USER}:${PASSWORD_HASH}\n`);
  await writeFile(join(dir, 'key.pem'), pki.serverKey);
  await writeFile(join(dir, 'cert.pem'), pki.serverCert);
  await writeFile(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: ${host}`,
      '  tls:',
      `    certificate: ${join(dir, 'cert.pem')}`,
      `    key: ${join(dir, 'key.pem')}`,
      'auth:',
      '  htpasswd:',
      '    realm: test',
      `    path: ${join(dir, 'htpasswd')}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await answers(host, caPem)) === 401) return { host, stop };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start: ${log}`);
}

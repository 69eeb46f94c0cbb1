/**
 * A private CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI in
 * a temp directory, plus an HTTPS front that forwards to a plain-HTTP server (the STS emulator)
 * and counts the TLS connections it accepted.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  readonly dir: string;
  /** PEM file of the CA that signed the server certificate. */
  readonly caFile: string;
  /** PEM file of another CA, which did not. */
  readonly otherCaFile: string;
  readonly serverKey: string;
  readonly serverCert: string;
  remove(): Promise<void>;
}

/** Runs openssl in `dir`; `args` is split on spaces (no argument here contains one). */
async function openssl(dir: string, args: string): Promise<void> {
  await run('openssl', args.split(' '), { cwd: dir });
}

const EC_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    `req -x509 ${EC_KEY} -keyout ${name}.key -out ${name}.pem -days 2 -subj /CN=${name} ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'network-pki-'));
  try {
    await Promise.all([makeCa(dir, 'test-ca'), makeCa(dir, 'other-ca')]);
    await openssl(dir, `req -new ${EC_KEY} -keyout server.key -out server.csr -subj /CN=localhost`);
    await writeFile(
      join(dir, 'server.ext'),
      [
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
      ].join('\n'),
    );
    await openssl(
      dir,
      'x509 -req -in server.csr -CA test-ca.pem -CAkey test-ca.key -CAcreateserial -out server.pem ' +
        '-days 2 -extfile server.ext',
    );
    return {
      dir,
      caFile: join(dir, 'test-ca.pem'),
      otherCaFile: join(dir, 'other-ca.pem'),
      serverKey: await readFile(join(dir, 'server.key'), 'utf8'),
      serverCert: await readFile(join(dir, 'server.pem'), 'utf8'),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface HttpsFront {
  /** `https://127.0.0.1:PORT/`. */
  readonly url: string;
  readonly port: number;
  /** TLS handshakes completed. */
  secureConnections(): number;
  stop(): Promise<void>;
}

/** Terminates TLS with the test PKI's server certificate and forwards every request to `upstream`. */
export async function startHttpsFront(pki: TestPki, upstream: string): Promise<HttpsFront> {
  const sockets = new Set<Socket>();
  let secure = 0;
  const server: Server = createServer({ key: pki.serverKey, cert: pki.serverCert }, (request, response) => {
    const forwarded = httpRequest(
      new URL(request.url ?? '/', upstream),
      { method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => {
    secure += 1;
  });
  // Failed handshakes are what some tests provoke; they must not crash the server.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    port,
    secureConnections: () => secure,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

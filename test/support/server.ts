/**
 * Plumbing shared by the local issuer and the STS emulator: a loopback HTTP server that can be
 * stopped without waiting for keep-alive clients, and delays that `stop()` cancels so no timer
 * outlives a test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface LoopbackServer {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly baseUrl: string;
  readonly port: number;
  /**
   * Resolves after `ms` milliseconds, or early with `false` when the server stops; `true` means
   * the delay ran its course and the caller may go on answering.
   */
  delay(ms: number): Promise<boolean>;
  readonly stopped: boolean;
  /** Cancels pending delays, destroys open sockets (keep-alive ones too) and closes the listener. */
  stop(): Promise<void>;
}

/**
 * Starts `handler` on 127.0.0.1 at a random port. A handler that throws gets a bare 500 so a bug
 * in the emulator shows up as a failing request rather than a hung one.
 */
export async function startLoopbackServer(handler: RequestHandler): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const pending = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  let stopped = false;

  const server: Server = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      }
      response.end(
        `test server bug: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    get stopped() {
      return stopped;
    },
    delay(ms) {
      if (stopped) return Promise.resolve(false);
      if (ms <= 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(timer);
          resolve(true);
        }, ms);
        pending.set(timer, resolve);
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const [timer, resolve] of pending) {
        clearTimeout(timer);
        resolve(false);
      }
      pending.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Reads a request body completely, refusing anything over `limit` bytes. */
export async function readBody(request: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limit) throw new Error(`request body larger than ${limit} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

// WELCOME's `http`: a client that knows the TCP port learns where the HTTP side is (PROTOCOL.md §3.4).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerMessageDecoder, V2_MAGIC, encodeHello, type Welcome } from '@edgecam/protocol';
import { V2Client } from './support/clients.js';
import { startTestServer, type TestServer } from './support/server.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function welcomeOf(server: TestServer): Promise<Welcome> {
  const c = await V2Client.connect(server.tcpPort);
  try {
    const [w] = await c.waitFor('welcome');
    return w!.welcome;
  } finally {
    c.close();
  }
}

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("WELCOME's http", () => {
  it('names the HTTP port the server listens on, its scheme and the base path', async () => {
    const server = await startTestServer({ httpPort: 0 });
    servers.push(server);
    expect(server.httpPort).toBeGreaterThan(0);
    expect((await welcomeOf(server)).http).toEqual({ port: server.httpPort, scheme: 'http', path: '/' });
  });

  it('names a configured HTTP port', async () => {
    const httpPort = await freePort();
    const server = await startTestServer({ httpPort });
    servers.push(server);
    expect((await welcomeOf(server)).http).toEqual({ port: httpPort, scheme: 'http', path: '/' });
  });

  it('is left out when the server has no HTTP side', async () => {
    const server = await startTestServer({ http: false });
    servers.push(server);
    expect((await welcomeOf(server)).http).toBeUndefined();
  });

  it('says https when the server serves TLS', async () => {
    const tlsDir = mkdtempSync(join(tmpdir(), 'edgecam-welcome-http-'));
    dirs.push(tlsDir);
    const server = await startTestServer({ httpPort: 0, tlsSelfSigned: true, tlsDir });
    servers.push(server);
    const welcome = await new Promise<Welcome>((resolve, reject) => {
      const decoder = new ServerMessageDecoder();
      const socket = tlsConnect({ host: '127.0.0.1', port: server.tcpPort, rejectUnauthorized: false }, () => {
        socket.write(Buffer.concat([V2_MAGIC, encodeHello({ client: 'vitest' })]));
      });
      socket.on('data', (chunk: Buffer) =>
        decoder.push(chunk, (m) => {
          if (m.type !== 'welcome') return;
          socket.destroy();
          resolve(m.welcome);
        }),
      );
      socket.on('error', reject);
      socket.setTimeout(10_000, () => reject(new Error('no WELCOME over TLS')));
    });
    expect(welcome.http).toEqual({ port: server.httpPort, scheme: 'https', path: '/' });
  });
});

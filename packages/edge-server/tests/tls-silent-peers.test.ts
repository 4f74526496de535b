// Peers that open a connection to a TLS port and never finish the handshake: the handshake limit
// destroys their sockets on both ports (TLS TCP and HTTPS), and a peer that leaves first leaves
// no descriptor behind. Descriptors are counted in /proc/self/fd: server and peers share this
// process, so once the peers' own sockets are gone, what is left over is the server's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const HANDSHAKE_MS = 300;
const PEERS = 20;
const dir = mkdtempSync(join(tmpdir(), 'edgecam-tls-silent-'));
let s: TestServer;

beforeAll(async () => {
  s = await startTestServer(
    { tlsSelfSigned: true, tlsDir: dir, httpPort: 0, maxPending: 64, maxPerAddress: 0 },
    { tcpLimits: { tlsHandshakeTimeoutMs: HANDSHAKE_MS }, httpLimits: { tlsHandshakeTimeoutMs: HANDSHAKE_MS } },
  );
});

afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

interface Peer {
  socket: Socket;
  closed: boolean;
}

async function silentPeers(port: number, n: number): Promise<Peer[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const socket = connect({ host: '127.0.0.1', port });
      const peer: Peer = { socket, closed: false };
      socket.on('error', () => undefined);
      socket.on('close', () => (peer.closed = true));
      await new Promise((r) => socket.once('connect', r));
      return peer;
    }),
  );
}

describe.each([
  ['the TLS TCP port', () => s.tcpPort],
  ['the HTTPS port', () => s.httpPort!],
])('silent peers on %s', (_, port) => {
  it(`are closed by the server once the handshake limit (${HANDSHAKE_MS} ms) passes, descriptors and all`, async () => {
    const before = openDescriptors();
    const peers = await silentPeers(port(), PEERS);
    // Generous: the limit is 300 ms; node checks it on the socket's own timer.
    await waitUntil(() => peers.every((p) => p.closed), 10_000, () => `${peers.filter((p) => !p.closed).length} of ${PEERS} peers to be closed`);
    await waitUntil(() => openDescriptors() <= before, 5000, () => `descriptors back to ${before} (now ${openDescriptors()})`);
    expect(s.tcp.handshakingCount).toBe(0);
  });

  it('leave no descriptor behind when they leave first', async () => {
    const before = openDescriptors();
    const peers = await silentPeers(port(), PEERS);
    for (const p of peers) p.socket.end();
    await waitUntil(() => peers.every((p) => p.closed), 10_000, 'the peers to be gone');
    await waitUntil(() => openDescriptors() <= before, 5000, () => `descriptors back to ${before} (now ${openDescriptors()})`);
    expect(s.tcp.handshakingCount).toBe(0);
  });
});

// Text a peer sends (a client name, a camera asked for, a request target) is cut to a bounded
// length before it is logged or sent back, so a peer's line costs about the same whatever it
// sends. Over real loopback sockets from 200 addresses, the log captured in memory.
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerMessageDecoder, V2_MAGIC, encodeHello, type ServerMessage } from '@edgecam/protocol';
import { peerText, showPeerText, SHOWN_CHARS } from '../src/log/peer-text.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A logger that keeps every line as written, to measure it. */
function lineLogger(level: pino.LevelWithSilent) {
  const lines: string[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(s) });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

// A line of the server's own is a few hundred bytes; a peer's text adds at most SHOWN_CHARS
// characters (escapes included) and the cut marker, each at most 2 bytes in JSON for these names.
const MAX_LINE_BYTES = 600;

describe('peer text', () => {
  it('is cut to SHOWN_CHARS, saying how long it was', () => {
    const long = 'n'.repeat(4000);
    expect(peerText(long)).toBe(`${'n'.repeat(SHOWN_CHARS)}…(4000 chars)`);
    expect(showPeerText(long)).toBe(`"${'n'.repeat(SHOWN_CHARS)}"…(4000 chars)`);
    expect(peerText('short')).toBe('short');
    expect(showPeerText('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });

  it('counts escapes as the characters they take, and never splits a character', () => {
    const shown = peerText('\x01'.repeat(1000));
    expect(shown.startsWith('\\x01'.repeat(SHOWN_CHARS / 4))).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(SHOWN_CHARS + '…(1000 chars)'.length);
    const emoji = peerText(`${'a'.repeat(SHOWN_CHARS - 1)}😀`);
    expect(emoji).toBe(`${'a'.repeat(SHOWN_CHARS - 1)}…(${SHOWN_CHARS + 1} chars)`);
  });
});

describe('a flood of HELLOs with 4000-character names from 200 addresses', () => {
  it('writes no line longer than a few hundred bytes, and names the length that was cut', async () => {
    const { logger, lines, parsed } = lineLogger('info');
    // Every line is let through: what is measured is the length of each, not how many the limiter lets by.
    const s = await startTestServer({ fps: 10 }, { logger, logLimits: { overallBurst: 1_000_000, perPeerBurst: 1_000_000 } });
    servers.push(s);
    const name = 'x'.repeat(4000);
    const peers = 200;
    for (let i = 0; i < peers; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) => {
          const n = i + j;
          // Half name a client, half ask for a camera that is not there.
          const hello = n % 2 === 0 ? { client: name } : { client: 'ok', camera: name };
          return helloFrom(`127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`, s.tcpPort, encodeHello(hello));
        }),
      );
    }
    await waitUntil(() => parsed().filter((l) => l.msg === 'client disconnected').length >= peers / 2, 30_000, 'every named client gone');
    const long = lines.filter((l) => Buffer.byteLength(l) > MAX_LINE_BYTES);
    expect(long, long[0]).toEqual([]);
    const hello = parsed().find((l) => l.msg === 'hello');
    expect(hello?.clientName).toBe(`${'x'.repeat(SHOWN_CHARS)}…(4000 chars)`);
    expect(parsed().find((l) => l.msg === 'HELLO names no camera of this port')?.camera).toBe(`"${'x'.repeat(SHOWN_CHARS)}"…(4000 chars)`);
  }, 60_000);
});

describe('a long request target', () => {
  it('is cut in the debug log', async () => {
    const { logger, parsed } = lineLogger('debug');
    const s = await startTestServer({ fps: 10, httpPort: 0, httpRateLimit: 0 }, { logger });
    servers.push(s);
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/${'p'.repeat(6000)}?q=1`);
    await res.arrayBuffer();
    await waitUntil(() => parsed().some((l) => l.msg === 'http request'), 10_000, 'the request to be logged');
    const url = String(parsed().find((l) => l.msg === 'http request')?.url);
    expect(url.length).toBeLessThan(300);
    expect(url).toMatch(/^\/p+…\(6005 chars\)$/);
  });
});

/** Connects from `from`, sends the v2 magic and `hello`, and resolves once the server answers. */
function helloFrom(from: string, port: number, hello: Buffer): Promise<ServerMessage[]> {
  return new Promise((resolve, reject) => {
    const messages: ServerMessage[] = [];
    const decoder = new ServerMessageDecoder();
    const s = connect({ host: '127.0.0.1', port, localAddress: from }, () => s.write(Buffer.concat([V2_MAGIC, hello])));
    s.on('data', (chunk: Buffer) =>
      decoder.push(chunk, (m) => {
        messages.push(m);
        // WELCOME or ERROR: the server has logged what it will about this HELLO.
        if (m.type === 'welcome' || m.type === 'error') s.end();
      }),
    );
    s.on('error', reject);
    s.on('close', () => resolve(messages));
  });
}

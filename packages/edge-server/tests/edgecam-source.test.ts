// edgecam:// : a chain device -> gateway -> v2 viewer, all edgecam-servers on loopback. Every
// frame reaches the viewer with the device's capture time and bytes; the device's camera is
// chosen by name; its token and TLS pin are honoured, and each refusal is a named fault.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeWelcome, type CapturedFrame } from '@edgecam/protocol';
import type { EdgeServerConfig } from '../src/config/config.js';
import { parseSourceSpec } from '../src/sources/source-spec.js';
import { SELF_SIGNED_CERT_FILE, SELF_SIGNED_KEY_FILE } from '../src/tls/tls-material.js';
import { V2Client } from './support/clients.js';
import { startFakeSeed } from './support/fake-seed.js';
import { testPatternJpegs } from './support/jpegs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const root = mkdtempSync(join(tmpdir(), 'edgecam-chain-'));
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function device(over: Partial<EdgeServerConfig> = {}): Promise<TestServer> {
  const s = await startTestServer({ fps: 10, ...over });
  cleanups.push(() => s.close());
  return s;
}

/** A gateway whose one camera is `source`. */
async function gateway(source: string, tuning: { stallTimeoutMs?: number } = {}): Promise<TestServer> {
  const spec = parseSourceSpec(source);
  if (!spec) throw new Error(`not a source: ${source}`);
  const s = await startTestServer({ source: spec, fps: 10, alwaysOn: true }, { supervisor: { initialBackoffMs: 100, maxBackoffMs: 400, stallTimeoutMs: 3000, ...tuning } });
  cleanups.push(() => s.close());
  return s;
}

async function viewer(port: number): Promise<V2Client> {
  const v = await V2Client.connect(port);
  cleanups.push(() => v.close());
  await v.waitFor('welcome');
  v.command('3');
  return v;
}

/** Waits for the gateway's source to fail, and gives its error. */
async function fault(g: TestServer): Promise<string> {
  await waitUntil(() => g.hub.info().lastError !== null, 15_000, () => `a fault (state ${g.hub.info().state})`);
  return g.hub.info().lastError!;
}

describe('a chain device -> gateway -> viewer', () => {
  it('delivers every frame with the device’s capture time and bytes, in order', async () => {
    const d = await device();
    // The device's own frames, as its capture hands them out: the truth to compare with.
    const captured = new Map<number, CapturedFrame>();
    const watch: Subscription = d.hub.frames$.subscribe((f) => captured.set(f.captureTimeUs, { ...f, jpeg: Buffer.from(f.jpeg) }));
    cleanups.push(() => watch.unsubscribe());
    const g = await gateway(`edgecam://127.0.0.1:${d.tcpPort}`);
    const v = await viewer(g.tcpPort);
    const frames = await v.waitFor('frame', 30, 20_000);
    const times = frames.map((f) => f.captureTimeUs);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
    for (const f of frames) {
      const original = captured.get(f.captureTimeUs);
      expect(original, `a device frame captured at ${f.captureTimeUs}`).toBeDefined();
      expect(f.jpeg.equals(original!.jpeg)).toBe(true);
    }
    expect(g.hub.info()).toMatchObject({ kind: 'edgecam', spec: `edgecam://127.0.0.1:${d.tcpPort}`, state: 'running', width: 160, height: 120 });
  });

  it('reads the camera the URL names, and names a camera the device lacks as the fault', async () => {
    const d = await device();
    const named = await gateway(`edgecam://127.0.0.1:${d.tcpPort}/default`);
    await (await viewer(named.tcpPort)).waitFor('frame', 3);
    const wrong = await gateway(`edgecam://127.0.0.1:${d.tcpPort}/attic`);
    expect(await fault(wrong)).toMatch(/^the device has no camera attic \(UNKNOWN_CAMERA: .*\); name one of its cameras after the port/);
  });

  it('picks the device up again after it restarts on the same port', async () => {
    const first = await startTestServer({ fps: 10 });
    const port = first.tcpPort;
    const g = await gateway(`edgecam://127.0.0.1:${port}`);
    const v = await viewer(g.tcpPort);
    await v.waitFor('frame', 3);
    await first.close();
    expect(await fault(g)).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port} closed the connection|^could not connect to 127\\.0\\.0\\.1:${port}`));
    const had = v.of('frame').length;
    const again = await device({ port });
    const captured = new Set<number>();
    const watch = again.hub.frames$.subscribe((f) => captured.add(f.captureTimeUs));
    cleanups.push(() => watch.unsubscribe());
    await v.waitFor('frame', had + 5, 20_000);
    // The frames after the restart carry the new device's capture times.
    expect(v.of('frame').slice(had + 1).every((f) => captured.has(f.captureTimeUs))).toBe(true);
  });
});

describe('edgecam:// with a token', () => {
  const TOKEN = 'device-token-1234567890';

  it('sends the token from ?token=, and masks it in /status and the log', async () => {
    const d = await device({ token: TOKEN });
    const g = await gateway(`edgecam://127.0.0.1:${d.tcpPort}?token=${TOKEN}`);
    await (await viewer(g.tcpPort)).waitFor('frame', 3);
    expect(g.hub.info().spec).toBe(`edgecam://127.0.0.1:${d.tcpPort}?token=***`);
    expect(JSON.stringify(g.log.lines)).not.toContain(TOKEN);
  });

  it.each([
    ['no token', '', /^the device wants a token \(UNAUTHORIZED: .*\); add \?token=TOKEN to the source$/],
    ['a wrong token', '?token=not-the-token', /^the device refused the token \(UNAUTHORIZED: .*\); give the device's token in \?token= of the source$/],
  ])('names %s as the fault, without the token in it', async (_what, query, error) => {
    const d = await device({ token: TOKEN });
    const g = await gateway(`edgecam://127.0.0.1:${d.tcpPort}${query}`);
    const message = await fault(g);
    expect(message).toMatch(error);
    expect(g.hub.info()).toMatchObject({ state: expect.stringMatching(/^(restarting|starting)$/), noSignal: true });
    expect(JSON.stringify(g.log.lines)).not.toContain('not-the-token');
  });
});

describe('edgecams:// (TLS)', () => {
  const dir = join(root, 'tls');

  it('reads a self-signed device pinned by its fingerprint', async () => {
    const d = await device({ tlsSelfSigned: true, tlsDir: dir });
    const g = await gateway(`edgecams://127.0.0.1:${d.tcpPort}?fingerprint=${d.tls!.fingerprint256}`);
    await (await viewer(g.tcpPort)).waitFor('frame', 3);
  });

  it('refuses a self-signed device without a pin, saying how to pin it', async () => {
    const d = await device({ tlsSelfSigned: true, tlsDir: dir });
    const g = await gateway(`edgecams://127.0.0.1:${d.tcpPort}`);
    expect(await fault(g)).toBe(
      `could not connect securely to 127.0.0.1:${d.tcpPort}: its certificate is not signed by a CA this machine trusts (self-signed?); pin it with ?fingerprint=SHA256 in the source (edgecam-server prints its fingerprint when it starts)`,
    );
  });

  it('sends nothing, token included, to a server whose certificate does not match the pin', async () => {
    // Another device's certificate, served by a TLS server that records what it gets.
    const other = mkdtempSync(join(root, 'other-'));
    const impostor = await device({ tlsSelfSigned: true, tlsDir: other });
    const received: Buffer[] = [];
    const server = createTlsServer({ key: readFileSync(join(other, SELF_SIGNED_KEY_FILE)), cert: readFileSync(join(other, SELF_SIGNED_CERT_FILE)) }, (s: TLSSocket) => {
      s.on('data', (d: Buffer) => received.push(d));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const pin = '00:'.repeat(31) + '00';
    const g = await gateway(`edgecams://127.0.0.1:${port}?token=secret-token-123456&fingerprint=${pin}`);
    expect(await fault(g)).toBe(
      `the certificate of 127.0.0.1:${port} does not match the fingerprint in the source: it has ${impostor.tls!.fingerprint256}, expected ${pin}; ` +
        'it may not be your device, or its certificate was made anew (edgecam-server prints its fingerprint when it starts); nothing was sent',
    );
    expect(received).toEqual([]);
  });

  it('says a device serving no TLS needs edgecam://', async () => {
    const d = await device();
    const g = await gateway(`edgecams://127.0.0.1:${d.tcpPort}`, { stallTimeoutMs: 800 });
    expect(await fault(g)).toMatch(
      new RegExp(`^no answer from 127\\.0\\.0\\.1:${d.tcpPort} within [\\d.]+ s of connecting \\(is it an edgecam-server's TCP port\\? if it serves no TLS, write edgecam:// instead of edgecams://\\)$|^could not connect securely to 127\\.0\\.0\\.1:${d.tcpPort}: the TLS handshake failed`),
    );
  });

  it('says a device serving TLS needs edgecams://', async () => {
    const d = await device({ tlsSelfSigned: true, tlsDir: dir });
    const g = await gateway(`edgecam://127.0.0.1:${d.tcpPort}`);
    expect(await fault(g)).toBe(`127.0.0.1:${d.tcpPort} closed the connection before answering (is it an edgecam-server's TCP port? one that serves TLS needs edgecams://)`);
  });
});

describe('edgecam:// against what is not an edgecam-server', () => {
  it('says the seed’s camera server is read with tcp://', async () => {
    const seed = await startFakeSeed({ jpegs: await testPatternJpegs(160, 120, 1) });
    cleanups.push(() => seed.close());
    const g = await gateway(`edgecam://127.0.0.1:${seed.port}`);
    expect(await fault(g)).toBe(`127.0.0.1:${seed.port} answered with text, not v2: "Unknown command"; the seed's camera server is read with tcp://127.0.0.1:${seed.port}`);
  });

  it('refuses a FRAME over the size limit from its header, as the device’s fault', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write(encodeWelcome({ server: 'hostile', version: '0', width: 160, height: 120, fps: 10, authRequired: false }));
        // FRAME (0x82) claiming 4 GB: seq and capture time follow, the JPEG never does.
        socket.write(Buffer.from([0x82, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const g = await gateway(`edgecam://127.0.0.1:${port}`);
    expect(await fault(g)).toMatch(/^the device broke the v2 protocol \(FRAME_TOO_LARGE: .*\)$/);
  });

  it('says an HTTP port is not the TCP port', async () => {
    const d = await device({ httpPort: 0 });
    const g = await gateway(`edgecam://127.0.0.1:${d.httpPort}`);
    expect(await fault(g)).toMatch(new RegExp(`^127\\.0\\.0\\.1:${d.httpPort} answered with text, not v2: "HTTP/1\\.1 400 .*; that is an HTTP port: give the device's TCP port \\(6810 unless it sets --port\\)$`));
  });

  it('says when the device’s own camera is lost, and its pings keep the quiet connection', async () => {
    const d = await startTestServer({ fps: 10, source: { kind: 'http', url: 'http://127.0.0.1:9/stream.mjpg', insecure: false } }, { supervisor: { initialBackoffMs: 100, maxBackoffMs: 100 } });
    cleanups.push(() => d.close());
    const g = await gateway(`edgecam://127.0.0.1:${d.tcpPort}`, { stallTimeoutMs: 600 });
    expect(await fault(g)).toBe("the device's camera is unavailable: could not read from 127.0.0.1:9: connection refused (is the server running, and on this port?)");
    // The device retries its camera every 0.1 s: 15 retries outlast the gateway's 0.6 s stall limit.
    await waitUntil(() => d.hub.info().restarts >= 15, 20_000, 'the device to retry its camera');
    expect(g.hub.info()).toMatchObject({ restarts: 0, state: 'restarting', noSignal: true });
  });
});

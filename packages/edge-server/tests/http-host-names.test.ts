// DNS rebinding: without a token the server answers only to its own names (IP literals, localhost,
// *.localhost, *.local, this machine's name, allowedHosts), with 421 to any other Host; /healthz
// stays open, and with a token any Host is accepted (the token is the defence).
import { request } from 'node:http';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessControl } from '../src/access/access-control.js';
import { allowedHosts } from '../src/access/allowed-hosts.js';
import type { SettingsChange } from '../src/camera/cameras.js';
import type { HttpCamera } from '../src/http/routes.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer, testLogger, type RunningHttpServer } from './http-fixtures/harness.js';

const TOKEN = 'host-names-test-token';
let running: RunningHttpServer | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** A server whose one camera records the settings it is asked for. */
async function start(opts: { token?: string; allowedHosts?: string[] } = {}): Promise<{ applied: SettingsChange[] }> {
  const applied: SettingsChange[] = [];
  const camera: HttpCamera = {
    name: 'default',
    hub: new FakeHub(),
    applySettings: (change) => {
      applied.push(change);
      return { width: 640, height: 480, fps: 15, quality: 80 };
    },
  };
  running = await startHttpServer({
    hub: camera.hub,
    cameras: { default: camera, get: (n) => (n === 'default' ? camera : undefined), names: () => ['default'], list: () => [camera] },
    registry: new RecordingRegistry(),
    metrics: new FixedMetrics(),
    ...(opts.token ? { access: new AccessControl(opts.token, testLogger) } : {}),
    ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
  });
  return { applied };
}

interface Answer {
  status: number;
  body: string;
}

/** One request to the test server with this Host header. */
function call(host: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: running!.port, path, method: init.method ?? 'GET', agent: false, headers: { Host: host, ...init.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const SETTINGS = { method: 'PUT', body: '{"fps":15}', headers: { 'Content-Type': 'application/json' } };

describe('Host names without a token', () => {
  it('answers 421 naming allowedHosts to a name not its own on /status, /snapshot.jpg and PUT /settings, and changes nothing', async () => {
    const { applied } = await start();
    for (const [path, init] of [['/status', {}], ['/snapshot.jpg', {}], ['/settings', SETTINGS]] as const) {
      const r = await call('evil.example', path, init);
      expect(r.status, path).toBe(421);
      const { error } = JSON.parse(r.body) as { error: { code: string; message: string } };
      expect(error.code).toBe('HOST_NOT_ALLOWED');
      expect(error.message).toContain('"evil.example"');
      expect(error.message).toContain('allowedHosts (--allowed-hosts)');
    }
    expect(applied).toEqual([]);
    // The same request under the server's address works.
    expect((await call(`127.0.0.1:${running!.port}`, '/settings', SETTINGS)).status).toBe(200);
    expect(applied).toEqual([{ fps: 15 }]);
  });

  it.each(['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', 'evil.local.example', 'evil.example:80', '[fe80::zz]'])(
    'refuses Host %j',
    async (host) => {
      await start();
      expect((await call(host, '/status')).status).toBe(421);
    },
  );

  it('answers IP literals, localhost, *.localhost, *.local and its machine name, with or without a port', async () => {
    await start();
    const machine = hostname();
    const hosts = [
      '127.0.0.1', `127.0.0.1:${running!.port}`, '[::1]', `[::1]:${running!.port}`, '192.168.1.20:8080', 'localhost', 'LOCALHOST:8080',
      'localhost.', 'cam.localhost', 'printer.local', 'Printer.Local.:8080', machine, `${machine.split('.')[0]}:8080`,
    ];
    for (const host of hosts) expect((await call(host, '/status')).status, host).toBe(200);
  });

  it('answers the names in allowedHosts, in any case', async () => {
    await start({ allowedHosts: ['camera.example.lan'] });
    expect((await call('Camera.Example.LAN:8080', '/status')).status).toBe(200);
    expect((await call('other.example.lan', '/status')).status).toBe(421);
  });

  it('keeps /healthz open to any Host', async () => {
    await start();
    expect((await call('evil.example', '/healthz')).status).not.toBe(421);
  });

  it('answers a request without a Host (HTTP/1.0)', async () => {
    await start();
    const socket = connect(running!.port, '127.0.0.1');
    socket.end('GET /status HTTP/1.0\r\n\r\n');
    let text = '';
    socket.setEncoding('utf8');
    for await (const chunk of socket) text += chunk as string;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('Host names with a token', () => {
  it('accepts any Host, and still wants the token', async () => {
    await start({ token: TOKEN });
    expect((await call('evil.example', '/status', { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await call('evil.example', '/status')).status).toBe(401);
  });
});

describe('allowedHosts()', () => {
  it('takes the machine name with and without its domain', () => {
    const allowed = allowedHosts([], 'pi.home.arpa');
    expect(['pi.home.arpa', 'PI', 'pi:8080'].map(allowed)).toEqual([true, true, true]);
    expect(allowed('home.arpa')).toBe(false);
  });
});

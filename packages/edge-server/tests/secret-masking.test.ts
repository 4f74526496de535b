// Secrets stay out of what the server shows: the log, /status, `config check` and the ERRORs it
// sends. URLs are shown through one function (showUrl) that parses them; the logger replaces the
// configured token wherever it appears as a last defence. Network tests run on loopback.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MessageType, ServerMessageDecoder, V2_MAGIC, type ServerMessage } from '@edgecam/protocol';
import { parseCommandLine } from '../src/config/config.js';
import { MASKED } from '../src/config/config-report.js';
import { WebhookSender } from '../src/events/webhook-sender.js';
import { redactUrl } from '../src/http/http-credentials.js';
import { createLogger } from '../src/log/logger.js';
import { maskedUrl, publishConfigSchema } from '../src/publish/publish-config.js';
import { startPublishing } from '../src/publish/start-publishing.js';
import { basicAuthFromUrl, maskUrlPasswords, showUrl } from '../src/sources/url-credentials.js';
import { memoryLogger } from './support/logger.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const TOKEN = 'secret-masking-token-8badf00d';
const dir = mkdtempSync(join(tmpdir(), 'edgecam-secret-masking-'));
const servers: TestServer[] = [];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('showUrl: one way to show a URL', () => {
  it('masks the whole password, even one holding an @', () => {
    expect(showUrl('rtsp://user:p@ss@cam:554/live')).toBe('rtsp://user:***@cam:554/live');
    expect(showUrl('mqtt://ha:hunter2@broker.local:1883')).toBe('mqtt://ha:***@broker.local:1883');
    expect(maskUrlPasswords("from 'rtsp://user:p@ss@cam/live': 401")).toBe("from 'rtsp://user:***@cam/live': 401");
  });

  it("masks an RTMP stream key (the last path segment), and SRT's streamid and passphrase", () => {
    expect(showUrl('rtmp://a.rtmp.youtube.com/live2/abcd-efgh-STREAM-KEY')).toBe('rtmp://a.rtmp.youtube.com/live2/***');
    expect(showUrl('rtmps://live.example:443/app/STREAM-KEY')).toBe('rtmps://live.example:443/app/***');
    // One segment is the application, no key.
    expect(showUrl('rtmp://mediamtx:1935/front')).toBe('rtmp://mediamtx:1935/front');
    expect(showUrl('srt://m:8890?streamid=publish:front:u:pw&passphrase=longpassphrase&latency=200')).toBe('srt://m:8890?streamid=***&passphrase=***&latency=200');
    expect(maskUrlPasswords('rtmp://127.0.0.1:1935/live/STREAM-KEY: Connection refused')).toBe('rtmp://127.0.0.1:1935/live/***: Connection refused');
  });

  it('masks a token in the query however its name is written, and leaves a URL with no secret as written', () => {
    expect(showUrl('http://cam/x?fps=5&access_token=abc&to%6Ben=def')).toBe('http://cam/x?fps=5&access_token=***&to%6Ben=***');
    expect(showUrl('http://cam.local')).toBe('http://cam.local');
  });

  it("shows a webhook as scheme://host[:port] and a masked path: a Home Assistant webhook id is the secret", () => {
    expect(showUrl('http://ha.local:8123/api/webhook/edgecam-SECRET-ID', { path: false })).toBe('http://ha.local:8123/***');
    expect(showUrl('https://u:pw@hooks.example/x?sig=1', { path: false })).toBe('https://hooks.example/***');
  });

  it('shows something that does not parse as its scheme and a mask', () => {
    expect(showUrl('rtsp://admin:secret@[cam/live')).toBe('rtsp://***');
  });

  it('turns a URL’s user and password into Basic auth', () => {
    expect(basicAuthFromUrl('http://hook:p%40ss@127.0.0.1:9/x')).toEqual({
      url: 'http://127.0.0.1:9/x',
      authorization: `Basic ${Buffer.from('hook:p@ss').toString('base64')}`,
    });
    expect(basicAuthFromUrl('http://127.0.0.1:9/x')).toEqual({ url: 'http://127.0.0.1:9/x', authorization: undefined });
  });
});

describe('request targets in the log', () => {
  it('redacts a token in userinfo, after `;`, and in a parameter whose name only starts with token', () => {
    expect(redactUrl(`http://u:${TOKEN}@127.0.0.1/status`)).toBe('http://u:***@127.0.0.1/status');
    expect(redactUrl(`//u:${TOKEN}@127.0.0.1/status`)).toBe('//u:***@127.0.0.1/status');
    expect(redactUrl(`/status?a=b;token=${TOKEN}`)).toBe('/status?a=b;token=REDACTED');
    expect(redactUrl(`/status?token%00=${TOKEN}&x=1`)).toBe('/status?token%00=REDACTED&x=1');
  });

  it.each([
    ['an absolute target with the token as password', `http://u:${TOKEN}@127.0.0.1/status`],
    ['a protocol-relative target with the token as password', `//u:${TOKEN}@127.0.0.1/status`],
    ['the token after a `;`', `/status?a=b;token=${TOKEN}`],
    ['a parameter named token%00', `/status?token%00=${TOKEN}`],
  ])('keeps the token out of the debug log: %s', async (_what, target) => {
    const s = await startTestServer({ fps: 10, httpPort: 0, httpRateLimit: 0, token: TOKEN });
    servers.push(s);
    await rawRequest(s.httpPort!, target);
    await waitUntil(() => s.log.lines.some((l) => l.msg === 'http request'), 10_000, 'the request to be logged');
    expect(JSON.stringify(s.log.lines)).not.toContain(TOKEN);
  });
});

describe('a v2 HELLO that is the bare token', () => {
  it('is neither echoed in the ERROR sent back nor in the log', async () => {
    const s = await startTestServer({ fps: 10, token: TOKEN });
    servers.push(s);
    const payload = Buffer.from(TOKEN);
    const header = Buffer.alloc(5);
    header[0] = MessageType.HELLO;
    header.writeUInt32BE(payload.length, 1);
    const messages = await exchange(s.tcpPort, Buffer.concat([V2_MAGIC, header, payload]));
    const error = messages.find((m) => m.type === 'error');
    expect(error).toMatchObject({ error: { code: 'BAD_PAYLOAD' } });
    // JSON.parse quotes the first ten characters of what it could not parse.
    expect(JSON.stringify(messages)).not.toContain(TOKEN.slice(0, 10));
    await waitUntil(() => s.log.lines.some((l) => l.msg === 'protocol error; closing'), 10_000, 'the error to be logged');
    expect(JSON.stringify(s.log.lines)).not.toContain(TOKEN.slice(0, 10));
  });
});

describe('webhooks', () => {
  it('send a URL’s user and password as Basic auth (fetch refuses them in the URL), and log no path or password', async () => {
    const hits: IncomingMessage['headers'][] = [];
    const server: Server = createServer((req, res) => {
      hits.push(req.headers);
      req.resume();
      // The first attempt fails, so the retry is logged.
      res.writeHead(hits.length === 1 ? 503 : 204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const log = memoryLogger();
    const sender = new WebhookSender({ url: `http://hook:pw-SECRET@127.0.0.1:${port}/api/webhook/HOOK-ID-SECRET`, events: ['start'] }, log.logger, { initialDelayMs: 10 });
    cleanups.push(() => sender.close());
    sender.offer({ id: 'e1', camera: 'front', type: 'motion', phase: 'start', startedAt: 1, score: 0.5 });
    await waitUntil(() => sender.stats.sent === 1 || sender.stats.failed === 1, 10_000, 'the event delivered');
    expect(sender.stats.sent).toBe(1);
    expect(hits[1]!.authorization).toBe(`Basic ${Buffer.from('hook:pw-SECRET').toString('base64')}`);
    const retry = log.lines.find((l) => l.msg === 'webhook failed; retrying');
    expect(retry?.url).toBe(`http://127.0.0.1:${port}/***`);
    expect(JSON.stringify(log.lines)).not.toMatch(/SECRET/);
  });
});

describe('publish targets', () => {
  it('show no RTMP stream key in /status, the log, ffmpeg’s command line or its stderr', async () => {
    // An "ffmpeg" that says what real ffmpeg says about an RTMP server that is not there.
    const fake = join(dir, 'ffmpeg-refused');
    writeFileSync(
      fake,
      `#!/bin/sh\ncase "$*" in *-protocols*) printf 'Output:\\n  rtmp\\n  tcp\\n'; exit 0;; esac\n` +
        `for a; do last=$a; done\necho "Output #0, flv, to '$last':" >&2\necho "$last: Connection refused" >&2\nexit 1\n`,
    );
    chmodSync(fake, 0o755);
    const log = memoryLogger('debug');
    const [target] = publishConfigSchema.parse(['rtmp://127.0.0.1:1935/live/STREAM-KEY-SECRET']);
    const hub = { attach: () => () => undefined, statsOf: () => undefined };
    const running = startPublishing({ name: 'front', logger: log.logger } as never, hub as never, [target!], {
      ffmpeg: { path: fake, via: 'EDGECAM_FFMPEG' },
      logger: log.logger,
      initialBackoffMs: 50,
    });
    cleanups.push(() => running.close());
    await waitUntil(() => running.status()[0]!.lastError !== null, 10_000, 'the target to be refused');
    await waitUntil(() => log.lines.some((l) => String(l.stderr ?? '').includes('Connection refused')), 10_000, 'ffmpeg’s stderr in the log');
    const status = running.status()[0]!;
    expect(status.url).toBe('rtmp://127.0.0.1:1935/live/***');
    expect(status.lastError).toContain('rtmp://127.0.0.1:1935/live/***: Connection refused');
    expect(log.lines.some((l) => l.msg === 'ffmpeg started')).toBe(true);
    expect(JSON.stringify([status, log.lines])).not.toContain('STREAM-KEY-SECRET');
    expect(maskedUrl(publishConfigSchema.parse(['srt://m:8890?streamid=publish:front:u:pw'])[0]!)).toBe('srt://m:8890?streamid=***');
  });
});

describe('config check', () => {
  it('prints every secret as the fixed marker: token, webhook headers and path, MQTT password and URL password, publish URLs', () => {
    const f = join(dir, 'secrets.yaml');
    writeFileSync(
      f,
      [
        `token: ${TOKEN}`,
        'source: rtsp://admin:CAM-SECRET@192.168.1.64/live',
        'cameras:',
        '  front:',
        '    h264:',
        '      enabled: true',
        '    publish:',
        '      - rtmp://a.rtmp.youtube.com/live2/STREAM-KEY-SECRET',
        '      - url: rtsp://pub:PUB-SECRET@mediamtx:8554/front',
        '        transport: udp',
        '      - srt://mediamtx:8890?streamid=publish:front:u:SRT-SECRET&passphrase=PASSPHRASE-SECRET',
        'events:',
        '  webhooks:',
        '    - url: http://ha.local:8123/api/webhook/HOOK-ID-SECRET',
        '      headers:',
        '        Authorization: Bearer HEADER-SECRET',
        '  mqtt:',
        '    url: mqtt://ha:URL-SECRET@broker.local:1883',
        '    username: ha',
        '    password: MQTT-SECRET',
        '',
      ].join('\n'),
    );
    for (const json of [false, true]) {
      const r = parseCommandLine(['config', 'check', '--config', f, ...(json ? ['--json'] : [])], {}, '9.9.9');
      if (!('output' in r)) throw new Error('expected output');
      expect(r.exitCode, r.output).toBe(0);
      expect(r.output).not.toMatch(/SECRET|secret-masking-token/);
      expect(r.output).toContain(`http://ha.local:8123/${MASKED}`);
      expect(r.output).toContain(`rtmp://a.rtmp.youtube.com/live2/${MASKED}`);
      expect(r.output).toContain(`mqtt://ha:${MASKED}@broker.local:1883`);
    }
    const json = JSON.parse((parseCommandLine(['config', 'check', '--json', '--config', f], {}) as { output: string }).output) as Record<string, any>;
    expect(json.token).toBe(MASKED);
    expect(json.events.mqtt).toMatchObject({ username: 'ha', password: MASKED });
    expect(json.events.webhooks[0].headers).toEqual({ Authorization: MASKED });
  });
});

describe('the logger', () => {
  it('replaces the configured token wherever a line carries it, as written or percent-encoded, and keeps the line JSON', () => {
    const token = 'log-"token"+/=0123456789';
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const log = createLogger('debug', { secrets: [token], destination: destination as never });
    log.child({ peer: `x-${token}` }).info({ url: `/status?t=${encodeURIComponent(token)}`, nested: { deep: [token] }, err: new Error(`bad ${token}`) }, `said ${token}`);
    log.info({ nothing: 'here' }, 'plain');
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.join('')).not.toContain('0123456789');
    expect(first).toMatchObject({ peer: 'x-***', url: '/status?t=***', nested: { deep: ['***'] }, msg: 'said ***' });
    expect(second).toMatchObject({ nothing: 'here', msg: 'plain' });
  });
});

/** Sends one raw request line and reads the answer until the server closes. */
function rawRequest(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const s = connect({ host: '127.0.0.1', port }, () => s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (answer += d));
    s.on('error', reject);
    s.on('close', () => resolve(answer));
  });
}

/** Sends bytes to the TCP port and collects the v2 messages until the server closes. */
function exchange(port: number, bytes: Buffer): Promise<ServerMessage[]> {
  return new Promise((resolve, reject) => {
    const messages: ServerMessage[] = [];
    const decoder = new ServerMessageDecoder();
    const s = connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    s.on('data', (chunk: Buffer) => decoder.push(chunk, (m) => messages.push(m)));
    s.on('error', reject);
    s.on('close', () => resolve(messages));
  });
}

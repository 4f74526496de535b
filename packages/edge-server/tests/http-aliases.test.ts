// mjpg-streamer's and µStreamer's URLs (/?action=stream, /?action=snapshot, /stream, /snapshot),
// which OctoPrint, Mainsail/Fluidd and Home Assistant are set up with, over raw HTTP on loopback
// against a real server: they serve what /stream.mjpg and /snapshot.jpg serve, under the same
// token rules, and `/` without `action` stays the page.
import { MULTIPART_BOUNDARY } from '@edgecam/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_UA, MultipartReader, RawHttpClient, type Part } from './http-fixtures/raw-http.js';
import { startTestServer, type TestServer } from './support/server.js';

const TOKEN = 'alias-token-7b2f';
const STREAMS = ['/?action=stream', '/stream'];
const SNAPSHOTS = ['/?action=snapshot', '/snapshot'];
const servers: TestServer[] = [];
let open: TestServer;
let locked: TestServer;

beforeAll(async () => {
  open = await startTestServer({ httpPort: 0, httpRateLimit: 0, fps: 10 });
  locked = await startTestServer({ httpPort: 0, httpRateLimit: 0, fps: 10, token: TOKEN }, { accessTuning: { freeFailures: 1000 } });
  servers.push(open, locked);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const withQuery = (path: string, param: string): string => `${path}${path.includes('?') ? '&' : '?'}${param}`;
const basic = (password: string): string => `Basic ${Buffer.from(`octoprint:${password}`).toString('base64')}`;

/** GETs `path` and returns the status and, for a 200 stream, the first whole JPEG part. */
async function getStream(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; jpeg?: Buffer; part?: Part }> {
  const client = await RawHttpClient.open(port, path, { headers });
  try {
    const head = await client.head();
    if (head.status !== 200) return { status: head.status };
    expect(head.headers.get('content-type')).toBe(`multipart/x-mixed-replace; boundary=${MULTIPART_BOUNDARY}`);
    const reader = new MultipartReader(MULTIPART_BOUNDARY);
    let fed = 0;
    const part = await client.until(() => {
      const body = client.body();
      reader.push(body.subarray(fed));
      fed = body.length;
      return reader.parts[0];
    }, 15_000, `a part from ${path}`);
    return { status: 200, jpeg: part.body, part };
  } finally {
    client.close();
  }
}

/** GETs `path` and returns the status and, for a 200 snapshot, its complete body. */
async function getSnapshot(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type?: string; body?: Buffer }> {
  const client = await RawHttpClient.open(port, path, { headers: { Connection: 'close', ...headers } });
  try {
    const head = await client.head();
    const length = Number(head.headers.get('content-length'));
    const body = await client.until(() => client.body().length >= length && client.body(), 15_000, `the body of ${path}`);
    return { status: head.status, type: head.headers.get('content-type'), body };
  } finally {
    client.close();
  }
}

const isJpeg = (b: Buffer | undefined): boolean => b !== undefined && b[0] === 0xff && b[1] === 0xd8 && b.at(-2) === 0xff && b.at(-1) === 0xd9;

describe('the stream and snapshot URLs of mjpg-streamer and µStreamer', () => {
  it.each(STREAMS)('%s streams whole JPEG parts on a server without a token', async (path) => {
    const { status, jpeg } = await getStream(open.httpPort!, path);
    expect(status).toBe(200);
    expect(isJpeg(jpeg)).toBe(true);
  });

  it.each(SNAPSHOTS)('%s returns one JPEG on a server without a token', async (path) => {
    const { status, type, body } = await getSnapshot(open.httpPort!, path);
    expect(status).toBe(200);
    expect(type).toBe('image/jpeg');
    expect(isJpeg(body)).toBe(true);
  });

  it.each([...STREAMS, ...SNAPSHOTS])('%s answers 401 with the Basic challenge without the token, or with a wrong one', async (path) => {
    for (const headers of [{}, { Authorization: 'Bearer not-it' }] as Record<string, string>[]) {
      const { status, body } = await getSnapshot(locked.httpPort!, path, headers);
      expect(status).toBe(401);
      expect((JSON.parse(body!.toString('utf8')) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
    expect((await getSnapshot(locked.httpPort!, withQuery(path, 'token=not-it'))).status).toBe(401);
  });

  it.each(STREAMS)('%s streams with the token as ?token=, Bearer or Basic', async (path) => {
    for (const [url, headers] of [
      [withQuery(path, `token=${TOKEN}`), {}],
      [path, { Authorization: `Bearer ${TOKEN}` }],
      [path, { Authorization: basic(TOKEN) }],
    ] as const) {
      const { status, jpeg } = await getStream(locked.httpPort!, url, headers);
      expect(status, `${url} ${JSON.stringify(headers)}`).toBe(200);
      expect(isJpeg(jpeg)).toBe(true);
    }
  });

  it.each(SNAPSHOTS)('%s returns a JPEG with the token as ?token=, Bearer or Basic', async (path) => {
    for (const [url, headers] of [
      [withQuery(path, `token=${TOKEN}`), {}],
      [path, { Authorization: `Bearer ${TOKEN}` }],
      [path, { Authorization: basic(TOKEN) }],
    ] as const) {
      const { status, body } = await getSnapshot(locked.httpPort!, url, headers);
      expect(status, `${url} ${JSON.stringify(headers)}`).toBe(200);
      expect(isJpeg(body)).toBe(true);
    }
  });

  it.each(STREAMS)('%s puts Content-Length in every part, as mjpg-streamer and µStreamer do, even for a browser', async (path) => {
    const { part } = await getStream(open.httpPort!, path, { 'User-Agent': BROWSER_UA });
    expect(part!.headers.get('content-length')).toBe(String(part!.body.length));
    // Asked for the browser layout, as µStreamer takes it, it sends that instead.
    const ahead = await getStream(open.httpPort!, withQuery(path, 'advance_headers=1'), { 'User-Agent': BROWSER_UA });
    expect(ahead.part!.headers.has('content-length')).toBe(false);
    expect(isJpeg(ahead.jpeg)).toBe(true);
  });

  it('keeps / the page, with or without a token in the query', async () => {
    const page = await getSnapshot(open.httpPort!, '/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body!.toString('utf8')).toContain('<img id="live"');
    const withToken = await getSnapshot(locked.httpPort!, `/?token=${TOKEN}`);
    expect(withToken.status).toBe(200);
    expect(withToken.body!.toString('utf8')).toContain(`token=${TOKEN}`);
    expect((await getSnapshot(locked.httpPort!, '/')).status).toBe(401);
  });

  it('answers an action it does not know with 404', async () => {
    const { status, body } = await getSnapshot(open.httpPort!, '/?action=stream_0');
    expect(status).toBe(404);
    expect((JSON.parse(body!.toString('utf8')) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

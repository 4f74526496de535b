import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '@edgecam/protocol';
import { ffmpegDecode } from './ffmpeg.js';
import { runCli, tempDir } from './run-cli.js';
import { freePort, startScriptedServer, type ScriptedServer } from './scripted-server.js';
import { testFrames } from './test-frames.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});
async function serve(script: (socket: Socket, index: number) => void): Promise<ScriptedServer> {
  const s = await startScriptedServer(script);
  servers.push(s);
  return s;
}

/** Each broken peer, as a server script, with the exit code and sentence the CLI must give. */
const brokenPeers: Array<{ name: string; script: (s: Socket) => void; code: number; message: RegExp }> = [
  {
    name: 'a silent server (timeout)',
    script: () => undefined,
    code: 3,
    message: /^edgecam: no frame arrived within 0\.5 s \(see --timeout\)\n$/,
  },
  {
    name: 'a server that answers with text',
    script: (s) => s.on('data', () => s.write('Unknown command')),
    code: 4,
    message: /^edgecam: the server sent text instead of a frame: "Unknown command"\n$/,
  },
  {
    name: 'a server announcing a frame over the limit',
    script: (s) => s.on('data', () => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xd8]))),
    code: 4,
    message: /^edgecam: the server announced a frame of 2147483647 bytes, over the limit of 16777216 bytes; refusing it\n$/,
  },
  {
    name: 'a server that cuts the connection mid-frame',
    script: (s) =>
      s.once('data', () => {
        const [header] = encodeFrame(testFrames()[0]!);
        s.write(Buffer.concat([header, testFrames()[0]!.subarray(0, 1000)]), () => s.destroy());
      }),
    code: 3,
    message: /^edgecam: the connection was cut in the middle of a frame \(1004 bytes of it had arrived\)\n$/,
  },
];

describe.each(['snapshot', 'record'])('edgecam %s against a broken peer', (command) => {
  it('exits 3 and names the address when the connection is refused', async () => {
    const cwd = tempDir();
    const port = await freePort();
    const r = await runCli(['--port', String(port), command], { cwd });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `edgecam: could not connect to 127.0.0.1:${port}: connection refused (is the server running, and on this port?)\n`,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each(brokenPeers)('exits with one sentence for $name, leaving no file', async ({ script, code, message }) => {
    const server = await serve(script);
    const cwd = tempDir();
    // --timeout 0.5: a CLI still waiting after 10 s is killed, and fails on its exit code.
    const r = await runCli(['--port', String(server.port), '--protocol', 'legacy', '--timeout', '0.5', command], { cwd, killAfterMs: 10_000 });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('auto-negotiation against broken peers', () => {
  it('still reports the text when every reply, to the v2 opening too, is text', async () => {
    const server = await serve((s) => s.on('data', () => s.write('Unknown command')));
    const cwd = tempDir();
    const r = await runCli(['--port', String(server.port), 'snapshot'], { cwd });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('edgecam: the server sent text instead of a frame: "Unknown command"\n');
    expect(server.accepted()).toBe(2);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('gives up on a silent server within --timeout, negotiation included', async () => {
    const server = await serve(() => undefined);
    const cwd = tempDir();
    // One --timeout for everything: 8 s. Separate waits (8 s for the WELCOME, 8 s for the frame,
    // 1 s to close) would take 17 s, and the test's own limit of 14 s kills such a CLI. The
    // lower bound is the whole run, start-up included, so load can only add to it.
    const started = performance.now();
    const r = await runCli(['--port', String(server.port), '--timeout', '8', 'snapshot'], { cwd, killAfterMs: 14_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('edgecam: no frame arrived within 8 s (see --timeout)\n');
    expect(performance.now() - started).toBeGreaterThanOrEqual(8000);
    expect(server.accepted()).toBe(2);
  });
});

describe('edgecam record keeps what it got when the connection breaks', () => {
  it('closes the file with its index and exits 3 after a cut mid-frame', async () => {
    const frames = testFrames();
    const server = await serve((s) =>
      s.on('data', (d: Buffer) => {
        if (!d.includes(0x33)) return;
        // `3`: five whole frames, then half of one, then the connection drops.
        const parts = frames.slice(0, 5).flatMap((f) => encodeFrame(f));
        const [header] = encodeFrame(frames[5]!);
        s.write(Buffer.concat([...parts, header, frames[5]!.subarray(0, 500)]), () => setTimeout(() => s.destroy(), 50));
      }),
    );
    const cwd = tempDir();
    const r = await runCli(['--port', String(server.port), '--protocol', 'legacy', 'record', '-o', 'cut.avi'], { cwd });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^edgecam: the connection was cut in the middle of a frame \(504 bytes of it had arrived\)\n/);
    expect(r.stderr).toMatch(/the 5 frames received before that are saved in cut\.avi/);
    expect(r.stdout).toMatch(/^saved cut\.avi: 5 frames, /);
    expect(readdirSync(cwd)).toEqual(['cut.avi']);
    const decoded = await ffmpegDecode(join(cwd, 'cut.avi'));
    expect(decoded).toEqual({ frames: 5, errors: '' });
  });
});

describe('edgecam record against frames that are not JPEGs', () => {
  const junk = () => {
    const body = Buffer.from('not a jpeg at all');
    return encodeFrame(body);
  };
  const sentence = /^edgecam: the server sent \d+ frames, none of them a JPEG the recorder could take \(not a whole JPEG: a frame must start with SOI \(FF D8\) and end with EOI \(FF D9\)\); nothing was saved\n$/;

  it('exits 4 (protocol), not 3, when a few arrive and then nothing', async () => {
    const server = await serve((s) =>
      s.on('data', (d: Buffer) => {
        if (d.includes(0x33)) for (let i = 0; i < 3; i++) s.write(Buffer.concat(junk()));
      }),
    );
    const cwd = tempDir();
    const r = await runCli(['--port', String(server.port), '--protocol', 'legacy', '--timeout', '1', 'record'], { cwd, env: { EDGECAM_LOG_LEVEL: 'silent' } });
    expect(r.stderr).toMatch(sentence);
    expect(r.code).toBe(4);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('exits 4 when they keep coming, with --frames or without', async () => {
    const server = await serve((s) =>
      s.on('data', (d: Buffer) => {
        if (!d.includes(0x33)) return;
        const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write(Buffer.concat(junk()))), 5);
        s.on('close', () => clearInterval(timer));
      }),
    );
    for (const extra of [[], ['--frames', '5']]) {
      const cwd = tempDir();
      const r = await runCli(['--port', String(server.port), '--protocol', 'legacy', 'record', ...extra], { cwd, env: { EDGECAM_LOG_LEVEL: 'silent' } });
      expect(r.stderr).toMatch(sentence);
      expect(r.code).toBe(4);
      expect(readdirSync(cwd)).toEqual([]);
    }
  });
});


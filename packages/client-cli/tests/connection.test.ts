import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import { encodeFrame, encodeWelcome, isWholeJpeg } from '@edgecam/protocol';
import type { ServerConnection } from '../src/connection.js';
import { nextFrame } from '../src/frame-timeout.js';
import { connect } from '../src/negotiate.js';
import { CliError, ExitCode } from '../src/errors.js';
import { takeSnapshot } from '../src/snapshot.js';
import { startFakeSeedServer } from './fake-seed-server.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { freePort, startScriptedServer } from './scripted-server.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});
function track<T extends { close(): Promise<unknown> }>(x: T): T {
  cleanups.push(() => x.close());
  return x;
}

const base = { host: '127.0.0.1', timeoutMs: 5000 } as const;

async function expectCliError(p: Promise<unknown>, exitCode: number, message: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  expect((err as CliError).message).toMatch(message);
  expect((err as CliError).exitCode).toBe(exitCode);
}

/** A legacy server that sends one frame per `0` (and says nothing else). */
function legacyScript(frame: Buffer) {
  return (socket: import('node:net').Socket) =>
    socket.on('data', (d: Buffer) => {
      if (d.includes(0x30)) for (const part of encodeFrame(frame)) socket.write(part);
    });
}

describe('auto-negotiation', () => {
  it('reconnects and speaks legacy when a seed server answers the v2 opening with text', async () => {
    const seed = track(await startFakeSeedServer({ frames: testFrames() }));
    const conn = track(await connect({ ...base, port: seed.port, protocol: 'auto' }));
    expect(conn.protocol).toBe('legacy');
    const frame = await takeSnapshot(conn, 5000);
    expect(isWholeJpeg(frame.jpeg)).toBe(true);
    expect(frame.seq).toBe(0);
    // The opening went to the first connection as one unknown command; the second got 0 then 1.
    await waitFor(() => seed.commands.length === 3, 'the ack to reach the server');
    expect(seed.commands[0]).toMatch(/^ECAM/);
    expect(seed.commands.slice(1)).toEqual(['0', '1']);
  });

  it('speaks v2 to a v2 server and takes sequence numbers and capture times from its frames', async () => {
    const v2 = track(await startFakeV2Server({ frames: testFrames(), seqGap: 2 }));
    const conn = track(await connect({ ...base, port: v2.port, protocol: 'auto', token: 'secret' }));
    expect(conn.protocol).toBe('v2');
    expect(conn.welcome?.server).toBe('fake-v2');
    expect(v2.hellos).toEqual([{ client: 'edgecam-cli', token: 'secret' }]);
    const frames = firstValueFrom(conn.frames$.pipe(take(4), toArray()));
    await conn.command('3');
    const got = await frames;
    expect(got.map((f) => f.seq)).toEqual([0, 3, 6, 9]);
    const nowUs = Date.now() * 1000;
    for (const f of got) expect(Math.abs(f.captureTimeUs - nowUs)).toBeLessThan(10_000_000);
    expect(v2.nonV2Connections()).toBe(0);
  });

  it('falls back to legacy when the server closes the connection on the opening', async () => {
    const server = track(
      await startScriptedServer((socket, i) => {
        if (i === 0) socket.once('data', () => socket.destroy());
        else legacyScript(testFrames()[0]!)(socket);
      }),
    );
    const conn = track(await connect({ ...base, port: server.port, protocol: 'auto' }));
    expect(conn.protocol).toBe('legacy');
    const frame = await takeSnapshot(conn, 5000);
    expect(frame.jpeg.equals(testFrames()[0]!)).toBe(true);
    expect(server.accepted()).toBe(2);
  });

  it('falls back to legacy when the server says nothing within the negotiation wait', async () => {
    const server = track(
      await startScriptedServer((socket, i) => {
        if (i > 0) legacyScript(testFrames()[1]!)(socket);
      }),
    );
    const conn = track(await connect({ ...base, port: server.port, protocol: 'auto', negotiateMs: 300 }));
    expect(conn.protocol).toBe('legacy');
    // It waited on the first connection with the v2 opening sent, then reconnected.
    expect(server.accepted()).toBe(2);
    expect(Buffer.concat(server.received[0]!).subarray(0, 4).toString()).toBe('ECAM');
    expect((await takeSnapshot(conn, 5000)).jpeg.equals(testFrames()[1]!)).toBe(true);
  });

  it('treats an ERROR from a v2 server as final instead of trying legacy', async () => {
    const v2 = track(await startFakeV2Server({ frames: testFrames(), token: 'right' }));
    await expectCliError(
      connect({ ...base, port: v2.port, protocol: 'auto', token: 'wrong' }),
      ExitCode.CONNECTION,
      /^the server refused our token: token missing or wrong \(UNAUTHORIZED\); check --token or EDGECAM_TOKEN$/,
    );
    expect(v2.nonV2Connections()).toBe(0);
  });

  it('with --protocol v2, reports the seed server\'s text reply instead of falling back', async () => {
    const seed = track(await startFakeSeedServer({ frames: testFrames() }));
    await expectCliError(
      connect({ ...base, port: seed.port, protocol: 'v2' }),
      ExitCode.PROTOCOL,
      /^the server answered text "Unknown command" instead of a v2 WELCOME; it may be a legacy server/,
    );
  });

  it('accepts a WELCOME split across chunks and a frame glued to it', async () => {
    const server = track(
      await startScriptedServer((socket) =>
        socket.once('data', () => {
          const welcome = encodeWelcome({ server: 's', version: '1', width: 160, height: 120, fps: 30, authRequired: false });
          socket.write(welcome.subarray(0, 3));
          setTimeout(() => socket.write(welcome.subarray(3)), 50);
        }),
      ),
    );
    const conn = track(await connect({ ...base, port: server.port, protocol: 'v2' }));
    expect(conn.welcome).toEqual({ server: 's', version: '1', width: 160, height: 120, fps: 30, authRequired: false });
  });
});

describe('legacy commands', () => {
  it('reach a seed server one per recv, even when sent back to back', async () => {
    const seed = track(await startFakeSeedServer({ frames: testFrames() }));
    const conn = track(await connect({ ...base, port: seed.port, protocol: 'legacy' }));
    await Promise.all([conn.command('3'), conn.command('q'), conn.command('3'), conn.command('q')]);
    await waitFor(() => seed.commands.length === 4, 'four commands');
    expect(seed.commands).toEqual(['3', 'q', '3', 'q']);
    expect(seed.chunks.map((c) => c.toString())).toEqual(['3', 'q', '3', 'q']);
  });

  it('get a single frame past a stream another client left running (the seed shares its flags)', async () => {
    const seed = track(await startFakeSeedServer({ frames: testFrames() }));
    const other = await connect({ ...base, port: seed.port, protocol: 'legacy' });
    await other.command('3');
    await other.close();
    expect(seed.flags.streaming).toBe(true);
    const conn = track(await connect({ ...base, port: seed.port, protocol: 'legacy' }));
    const a = await takeSnapshot(conn, 5000);
    const b = await takeSnapshot(conn, 5000);
    expect(b.seq).toBeGreaterThan(a.seq);
  });
});

describe('connection errors', () => {
  it('says the connection was refused when nothing listens', async () => {
    const port = await freePort();
    await expectCliError(
      connect({ ...base, port, protocol: 'auto' }),
      ExitCode.CONNECTION,
      new RegExp(`^could not connect to 127\\.0\\.0\\.1:${port}: connection refused`),
    );
  });

  it('times out when a legacy server sends no frame', async () => {
    const server = track(await startScriptedServer(() => undefined));
    const conn = track(await connect({ ...base, port: server.port, protocol: 'legacy' }));
    // The deadline is the promise: a bound far above it, which only a wait for something else would pass.
    const started = performance.now();
    await expectCliError(takeSnapshot(conn, 400), ExitCode.CONNECTION, /^no frame arrived within 0\.4 s/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('quotes the text a server sends where a frame should be', async () => {
    const server = track(await startScriptedServer((s) => s.on('data', () => s.write('Unknown command'))));
    const conn = track(await connect({ ...base, port: server.port, protocol: 'legacy' }));
    await expectCliError(
      takeSnapshot(conn, 5000),
      ExitCode.PROTOCOL,
      /^the server sent text instead of a frame: "Unknown command"$/,
    );
  });

  it('finds the text after whole frames in the same chunk', async () => {
    const frame = testFrames()[2]!;
    const server = track(
      await startScriptedServer((s) =>
        s.once('data', () => s.write(Buffer.concat([...encodeFrame(frame), Buffer.from('Unknown command')]))),
      ),
    );
    const conn = track(await connect({ ...base, port: server.port, protocol: 'legacy' }));
    const first = nextFrame(conn, 5000);
    const failed = firstValueFrom(conn.frames$.pipe(take(2), toArray()));
    await conn.command('0');
    expect((await first).jpeg.equals(frame)).toBe(true);
    await expectCliError(failed, ExitCode.PROTOCOL, /^the server sent text instead of a frame: "Unknown command"$/);
  });

  it('refuses a frame length over the limit from the header alone', async () => {
    const server = track(
      await startScriptedServer((s) =>
        s.on('data', () => s.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 0x00, 0x01, 0x02]))),
      ),
    );
    const conn = track(await connect({ ...base, port: server.port, protocol: 'legacy' }));
    await expectCliError(
      takeSnapshot(conn, 5000),
      ExitCode.PROTOCOL,
      /^the server announced a frame of 4294967280 bytes, over the limit of 16777216 bytes/,
    );
  });

  it('says a frame was cut when the connection ends inside it', async () => {
    const server = track(
      await startScriptedServer((s) =>
        s.on('data', () => {
          const header = Buffer.alloc(4);
          header.writeUInt32BE(5000);
          s.write(Buffer.concat([header, Buffer.alloc(100, 0xd8)]), () => s.destroy());
        }),
      ),
    );
    const conn = track(await connect({ ...base, port: server.port, protocol: 'legacy' }));
    await expectCliError(
      takeSnapshot(conn, 5000),
      ExitCode.CONNECTION,
      /^the connection was cut in the middle of a frame \(104 bytes of it had arrived\)$/,
    );
  });

  it('says the server closed the connection between frames', async () => {
    const server = track(await startScriptedServer((s) => s.on('data', () => s.end())));
    const conn: ServerConnection = track(await connect({ ...base, port: server.port, protocol: 'legacy' }));
    // Closed at the command, without a byte: also how a server with a token refuses legacy clients.
    await expectCliError(takeSnapshot(conn, 5000), ExitCode.CONNECTION, /^the server closed the connection( without sending anything \(a server with a token refuses legacy clients.*)?$/);
  });
});

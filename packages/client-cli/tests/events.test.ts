import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientMessageDecoder, encodeErrorMessage, encodeEventMessage, encodeWelcome, type EventBody, type Hello } from '@edgecam/protocol';
import { formatEvent, parseHostPort } from '../src/events-command.js';
import { spawnCli, tempDir } from './run-cli.js';
import { startScriptedServer, type ScriptedServer } from './scripted-server.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const WELCOME = { server: 'edgecam-server', version: '0.1.0', width: 16, height: 8, fps: 10, authRequired: false, camera: 'front', cameras: ['front'] };

function event(id: string, phase: EventBody['phase'], camera = 'front'): EventBody {
  return { id, camera, type: 'motion', phase, startedAt: 1_733_070_000_000, ...(phase === 'end' ? { endedAt: 1_733_070_002_500 } : {}), score: 0.5 };
}

/** Calls `onHello` with each connection's HELLO (after the 5-byte magic). */
function onHello(socket: Socket, then: (hello: Hello) => void): void {
  const decoder = new ClientMessageDecoder();
  let buffered = Buffer.alloc(0);
  let started = false;
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    if (!started) {
      if (buffered.length < 5) return;
      started = true;
      buffered = buffered.subarray(5);
    }
    const chunk = buffered;
    buffered = Buffer.alloc(0);
    decoder.push(chunk, (m) => {
      if (m.type === 'hello') then(m.hello);
    });
  });
}

describe('edgecam events', () => {
  it('asks for events in HELLO, prints one line per event with peer text made visible, and reconnects', async () => {
    const hellos: Hello[] = [];
    const server = await startScriptedServer((socket, index) => {
      onHello(socket, (hello) => {
        hellos.push(hello);
        socket.write(encodeWelcome(WELCOME));
        if (index === 0) {
          socket.write(encodeEventMessage(event('front-1', 'start', 'front\x1b[2J')));
          socket.end(); // the server goes away
        } else {
          socket.write(encodeEventMessage(event('front-1', 'end')));
        }
      });
    });
    servers.push(server);
    const run = spawnCli(['events', `127.0.0.1:${server.port}`, '--camera', 'front'], { cwd: tempDir() });
    await run.waitForOutput(/after 2\.5 s/);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(hellos[0]).toMatchObject({ events: true, camera: 'front', client: 'edgecam-cli' });
    expect(hellos.length).toBe(2);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\S+Z front\\x1b\[2J motion start score 0\.50 \(front-1\)$/);
    expect(lines[1]).toBe('2024-12-01T16:20:02.500Z front motion end after 2.5 s score 0.50 (front-1)');
    expect(result.stderr).toContain('connection lost');
  });

  it('prints JSON lines with --json', async () => {
    const server = await startScriptedServer((socket) =>
      onHello(socket, () => {
        socket.write(encodeWelcome(WELCOME));
        socket.write(encodeEventMessage(event('front-2', 'end')));
      }),
    );
    servers.push(server);
    const run = spawnCli(['events', '--json', '--port', String(server.port), '--host', '127.0.0.1'], { cwd: tempDir() });
    await run.waitForOutput(/front-2/);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(JSON.parse(result.stdout.trim())).toEqual(event('front-2', 'end'));
  });

  it('stops with exit code 3 when the server refuses the camera', async () => {
    const server = await startScriptedServer((socket) =>
      onHello(socket, () => {
        socket.end(encodeErrorMessage({ code: 'UNKNOWN_CAMERA', message: 'no camera "back"; this server has: front' }));
      }),
    );
    servers.push(server);
    const result = await spawnCli(['events', `127.0.0.1:${server.port}`, '--camera', 'back'], { cwd: tempDir() }).done;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('UNKNOWN_CAMERA: no camera "back"; this server has: front');
  });

  it('reads HOST, HOST:PORT and [IPv6]:PORT', () => {
    expect(parseHostPort('cam.local', 6810)).toEqual({ host: 'cam.local', port: 6810 });
    expect(parseHostPort('10.0.0.5:7000', 6810)).toEqual({ host: '10.0.0.5', port: 7000 });
    expect(parseHostPort('[::1]:7000', 6810)).toEqual({ host: '::1', port: 7000 });
    expect(parseHostPort('::1', 6810)).toEqual({ host: '::1', port: 6810 });
    expect(parseHostPort('cam:99999', 6810)).toBeUndefined();
    expect(formatEvent(event('x\n', 'start'), true)).toContain('"id":"x\\n"');
  });
});

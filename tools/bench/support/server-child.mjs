// The server side of a benchmark, in its own process so its CPU time is its own (clients run in
// the parent). Driven over IPC by server-process.mjs:
//   { type: 'start', kind, framesDir, fps, framing, clockOffsetUs, alwaysOn, http } -> { type: 'ready', port, httpPort }
//      (http: true also serves HTTP on a free port, for clients such as ffmpeg that read /stream.mjpg)
//   { type: 'usage', id, gc } -> { type: 'usage', id, cpuUs, rss, live, seq, sent, dropped }
//      (gc: collect garbage after reading the CPU time, so rss and live (heap + buffers) count
//      only what is still referenced)
//   { type: 'stop' }      -> closes the server and exits
// kind: 'edgecam' (startEdgeServer fed by the in-memory source; with `cameras: N` in start, N
// named cameras cam1..camN fed one in-memory source each, and the usage answer adds `seqs` by
// camera), 'plain' (a bare Node socket server writing the same length-prefixed bytes: the
// baseline), 'naive' (the seed's design).
import { createServer } from 'node:net';
import { DEFAULT_CONFIG, startEdgeServer } from '@edgecam/edge-server';
import { encodeFrame, encodeFrameMessage } from '@edgecam/protocol';
import { makeClock } from './clock.mjs';
import { readJpegs } from './frames.mjs';
import { createMemorySource } from './memory-source.mjs';
import { loadNaiveSeed } from './naive-seed.mjs';

let server = null;

process.on('message', async (msg) => {
  try {
    if (msg.type === 'start') {
      server = await start(msg);
      process.send({ type: 'ready', port: server.port, httpPort: server.httpPort ?? null });
    } else if (msg.type === 'usage') {
      const cpu = process.cpuUsage();
      // After the CPU reading, so the collection's own time falls outside the window measured.
      if (msg.gc) globalThis.gc?.();
      const mem = process.memoryUsage();
      process.send({ type: 'usage', id: msg.id, cpuUs: cpu.user + cpu.system, rss: mem.rss, live: mem.heapUsed + mem.external, ...server.counters() });
    } else if (msg.type === 'stop') {
      await server?.close();
      process.exit(0);
    }
  } catch (err) {
    process.send({ type: 'error', message: err.stack ?? String(err) });
    process.exit(1);
  }
});
process.on('disconnect', () => process.exit(0));

async function start({ kind, framesDir, fps, framing = 'v1', clockOffsetUs, alwaysOn = false, idleStopSeconds = 0.2, cameras = 0, http = false }) {
  const jpegs = readJpegs(framesDir);
  const clock = makeClock(clockOffsetUs);
  const source = createMemorySource({ jpegs, fps, clock });
  if (kind === 'edgecam' && cameras > 0) {
    const sources = { cam1: source };
    for (let i = 2; i <= cameras; i++) sources[`cam${i}`] = createMemorySource({ jpegs, fps, clock });
    return startEdgecamCameras(sources, { alwaysOn, idleStopSeconds });
  }
  if (kind === 'edgecam') return startEdgecam(source, { alwaysOn, idleStopSeconds, http });
  if (kind === 'plain') return fps > 0 ? startPlainPaced(source, framing, alwaysOn) : startPlainUnthrottled(jpegs);
  if (kind === 'naive') return startNaive(jpegs, fps);
  throw new Error(`unknown server kind ${kind}`);
}

async function startEdgecam(source, { alwaysOn, idleStopSeconds, http }) {
  // Logs at the default level go to stdout, which the parent points at /dev/null: the server
  // still formats and writes every line, as it does in production.
  // Every benchmark client comes from 127.0.0.1, up to 50 at once: the per-host and per-protocol
  // limits that protect a device would refuse them.
  const running = await startEdgeServer(
    { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, http, httpPort: 0, alwaysOn, idleStop: idleStopSeconds, maxClients: 0, maxPerAddress: 0 },
    { source },
  );
  return {
    port: running.tcpPort,
    httpPort: running.httpPort,
    counters: () => {
      const clients = running.registry.list();
      return {
        seq: source.seq,
        sent: clients.reduce((a, c) => a + c.framesSent, 0),
        dropped: clients.reduce((a, c) => a + c.dropped, 0),
      };
    },
    close: () => running.close(),
  };
}

/** Several named cameras (`cameras: N`: cam1..camN, v2 clients name one in HELLO), each its own in-memory source. */
async function startEdgecamCameras(sources, { alwaysOn, idleStopSeconds }) {
  const camera = (name) => ({
    name,
    source: DEFAULT_CONFIG.source,
    size: { width: sources[name].width, height: sources[name].height },
    fps: sources[name].fps,
    quality: DEFAULT_CONFIG.quality,
    idleStop: idleStopSeconds,
    alwaysOn,
    legacyPort: null,
  });
  const running = await startEdgeServer(
    { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, http: false, alwaysOn, idleStop: idleStopSeconds, maxClients: 0, maxPerAddress: 0, cameras: Object.keys(sources).map(camera) },
    { sources },
  );
  return {
    port: running.tcpPort,
    counters: () => {
      const clients = running.registry.list();
      return {
        seq: sources.cam1.seq,
        seqs: Object.fromEntries(Object.entries(sources).map(([name, s]) => [name, s.seq])),
        sent: clients.reduce((a, c) => a + c.framesSent, 0),
        dropped: clients.reduce((a, c) => a + c.dropped, 0),
      };
    },
    close: () => running.close(),
  };
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/**
 * The delivery baseline: on the first byte a client sends, write frames back to back, each as
 * [u32 length, JPEG] in one corked write, as fast as the socket takes them (the next frame when
 * write() has room again, at 'drain').
 */
async function startPlainUnthrottled(jpegs) {
  const framed = jpegs.map((j) => encodeFrame(j));
  let seq = 0;
  let sent = 0;
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    const pump = () => {
      while (!socket.destroyed) {
        const [header, jpeg] = framed[seq++ % framed.length];
        socket.cork();
        socket.write(header);
        const room = socket.write(jpeg);
        socket.uncork();
        sent++;
        if (!room) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.once('data', pump);
  });
  const port = await listen(server);
  return {
    port,
    counters: () => ({ seq, sent, dropped: 0 }),
    close: () => closeAll(server, sockets),
  };
}

/**
 * The fan-out and latency baseline: the same paced source; each new frame is written to every
 * client that has asked (sent any byte) as one corked [header, JPEG] write, or skipped for a
 * client whose previous frame is still queued. No sessions, no hub, no metrics, no logs.
 */
async function startPlainPaced(source, framing, alwaysOn) {
  const encode = framing === 'v2' ? (f) => encodeFrameMessage(f.seq, f.captureTimeUs, f.jpeg) : (f) => encodeFrame(f.jpeg);
  const streaming = new Set();
  const sockets = new Set();
  let sent = 0;
  let dropped = 0;
  let stop = null; // the source runs while a client streams, as edgecam's capture does
  const onFrame = (frame) => {
    const [header, jpeg] = encode(frame);
    for (const socket of streaming) {
      if (socket.writableLength > 0) {
        dropped++;
        continue;
      }
      socket.cork();
      socket.write(header);
      socket.write(jpeg);
      socket.uncork();
      sent++;
    }
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      streaming.delete(socket);
      if (streaming.size === 0 && !alwaysOn) {
        stop?.();
        stop = null;
      }
    });
    socket.once('data', () => {
      streaming.add(socket);
      stop ??= source.start(onFrame);
    });
  });
  if (alwaysOn) stop = source.start(onFrame);
  const port = await listen(server);
  return {
    port,
    counters: () => ({ seq: source.seq, sent, dropped }),
    close: () => {
      stop?.();
      return closeAll(server, sockets);
    },
  };
}

async function startNaive(jpegs, fps) {
  const { startNaiveSeedServer } = await loadNaiveSeed();
  let seq = 0;
  const periodMs = fps > 0 ? 1000 / fps : 0;
  let due = performance.now();
  // cap.read(): the next frame, when the camera has it.
  const read = async () => {
    if (periodMs > 0) {
      due = Math.max(due + periodMs, performance.now() - periodMs);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    return jpegs[seq++ % jpegs.length];
  };
  const naive = await startNaiveSeedServer({ host: '127.0.0.1', port: 0, read });
  return {
    port: naive.port,
    counters: () => ({ seq, sent: naive.framesSent, dropped: 0, clientsServed: naive.clientsServed }),
    close: () => naive.close(),
  };
}

function closeAll(server, sockets) {
  return new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
}

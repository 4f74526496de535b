import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { choosePartLayout } from '@edgecam/protocol';
import { describeSystemError, listen } from '@edgecam/runtime';
import { CliError, ExitCode } from './errors.js';
import { aborted, onInterrupt } from './interrupt.js';
import { MjpegResponse } from './mjpeg-response.js';
import type { ListenAddress } from './flag-values.js';
import type { GlobalOptions } from './global-options.js';
import { defaultSnapshotName } from './snapshot.js';
import { hostAllowed, isLoopback } from './host-check.js';
import { sideUrl, welcomeHttpSide } from './http-side.js';
import { formatAddress } from './socket-open.js';
import { StreamRelay } from './stream-relay.js';
import { printError, printLine } from './terminal.js';
import { viewPage } from './view-page.js';

/**
 * `edgecam view`: a local web page relaying the server's stream (ours or a legacy one) as
 * multipart MJPEG. Runs until Ctrl-C or SIGTERM, then stops the stream and exits 0.
 */
export async function viewCommand(g: GlobalOptions, listen: ListenAddress, log: Logger): Promise<number> {
  const upstream = formatAddress(g.host, g.port);
  const relay = new StreamRelay({ ...g, checkTlsAtOnce: true, logger: log }, g.timeoutMs, upstream, log);
  const interrupt = onInterrupt();
  try {
    await Promise.race([
      relay.start(),
      aborted(interrupt.signal).then(() => {
        throw new CliError(ExitCode.INTERRUPTED, 'interrupted before the stream started');
      }),
    ]);
    let port = listen.port;
    const server = http.createServer((req, res) => {
      if (!hostAllowed(req.headers.host, listen.host, port)) {
        refuseHost(res, req.headers.host, formatAddress(listen.host, port));
        return;
      }
      handle(req, res, relay, upstream, () => serverPage(g, relay));
    });
    await listenOn(server, listen);
    port = (server.address() as AddressInfo).port;
    if (!isLoopback(listen.host)) {
      printError(
        `edgecam view: warning: listening on ${formatAddress(listen.host, port)}, so anyone who can reach it sees the camera without a token or password (the page has no authentication of its own)`,
      );
    }
    const relayStatus = relay.status();
    printLine(
      `edgecam view: open http://${formatAddress(listen.host, port)}/ (relaying ${upstream}, ${relayStatus.protocol} protocol${relayStatus.server !== null ? `, ${relayStatus.server}` : ''}; Ctrl-C to stop)`,
    );
    await aborted(interrupt.signal);
    await relay.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    return ExitCode.OK;
  } finally {
    interrupt.dispose();
    await relay.stop();
  }
}

async function listenOn(server: http.Server, at: ListenAddress): Promise<void> {
  await listen(server, at.port, at.host).catch((err: Error) => {
    throw new CliError(ExitCode.CONNECTION, `could not listen on ${formatAddress(at.host, at.port)}: ${describeSystemError(err)} (see --listen)`);
  });
}

/** 403 for a request addressed to another name: see host-check.ts. */
function refuseHost(res: ServerResponse, host: string | undefined, own: string): void {
  res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`forbidden: Host ${JSON.stringify(host ?? '')} is not this viewer's address; open http://${own}/ (or localhost) instead\n`);
}

/** The server's own page (its HTTP side: --http-port, or what its WELCOME names); null when unknown. */
function serverPage(g: GlobalOptions, relay: StreamRelay): string | null {
  if (g.httpPort !== undefined) return sideUrl(g.tls ? 'https' : 'http', g.host, g.httpPort).href;
  try {
    return welcomeHttpSide(relay.lastWelcome(), g.host)?.base.href ?? null;
  } catch {
    // A scheme we do not speak: no link.
    return null;
  }
}

function handle(req: IncomingMessage, res: ServerResponse, relay: StreamRelay, upstream: string, page: () => string | null): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  switch (url.pathname) {
    case '/':
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : viewPage(upstream));
      return;
    case '/stream.mjpg':
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace' }).end();
        return;
      }
      new MjpegResponse(res, choosePartLayout(url.searchParams.get('advance_headers'), req.headers['user-agent']), relay.frames$, relay.latest());
      return;
    case '/snapshot.jpg': {
      const frame = relay.latest();
      if (frame === undefined) {
        res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
        res.end(JSON.stringify({ error: 'no frame yet' }) + '\n');
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'image/jpeg',
        'Content-Length': frame.jpeg.length,
        'Content-Disposition': `attachment; filename="${defaultSnapshotName()}"`,
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : frame.jpeg);
      return;
    }
    case '/stats.json':
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ ...relay.status(), serverPage: page() }) + '\n');
      return;
    default:
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }
}

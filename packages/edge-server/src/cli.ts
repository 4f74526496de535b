#!/usr/bin/env node
// edgecam-server: parse the command line, start, print where to connect, and shut down cleanly
// on SIGINT/SIGTERM (stop accepting, close sessions, stop ffmpeg, exit 0).
import { existsSync } from 'node:fs';
import { bannerLines } from './cli/banner.js';
import { ConfigError, parseCommandLine } from './config/config.js';
import { EdgeServerError } from './errors.js';
import { runInstallService } from './cli/install-service.js';
import { describeListenFailure } from './cli/listen-failure.js';
import { createLogger } from './log/logger.js';
import { startEdgeServer } from './server.js';
import { formatSourceSpec } from './sources/source-spec.js';
import { VERSION } from './version.js';

// If closing takes longer than this, exit anyway; the exit hook still kills ffmpeg.
const SHUTDOWN_LIMIT_MS = 10_000;

async function main(): Promise<void> {
  // Not a server option: it sets up the service that then runs the server.
  if (process.argv[2] === 'install-service') process.exit(runInstallService(process.argv.slice(3)));
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env, VERSION);
  } catch (err) {
    if (err instanceof ConfigError) {
      const lines = err.problems.map((problem) => `edgecam-server: ${problem}\n`).join('');
      process.stderr.write(`${lines}Run edgecam-server --help to see every option.\n`);
      process.exit(2);
    }
    throw err;
  }
  if ('exitCode' in parsed) {
    (parsed.exitCode === 0 ? process.stdout : process.stderr).write(parsed.output);
    process.exit(parsed.exitCode);
  }
  const { config } = parsed;
  const logger = createLogger(config.logLevel, { secrets: [config.token] });
  // A promise some request or peer left rejected is that one request's failure, not the whole
  // camera's: logged (with its stack, for a bug report), and the server goes on.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'a task failed with nobody to handle it; the server goes on (please report this with the log)');
  });

  let shuttingDown = false;
  let running: Awaited<ReturnType<typeof startEdgeServer>> | undefined;
  const shutdown = (why: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ why }, 'stopping');
    setTimeout(() => {
      logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    void (running ? running.close() : Promise.resolve()).then(
      () => process.exit(code),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        // A second Ctrl-C: leave now (the exit hook still kills ffmpeg).
        process.exit(1);
      }
      shutdown(signal, 0);
    });
  }

  if (config.source.kind === 'stdin' && process.stdin.isTTY) {
    logger.warn('--source stdin reads frames from standard input, which is a terminal: pipe MJPEG into it');
  }
  try {
    running = await startEdgeServer(config, {
      logger,
      onSourceEnded: () => shutdown('source ended', 0),
    });
  } catch (err) {
    if (err instanceof EdgeServerError && err.code === 'SOURCE_NOT_FOUND') {
      process.stderr.write(`edgecam-server: ${err.message}\n`);
      process.exit(2);
    }
    const listen = describeListenFailure(err, config);
    if (listen) {
      // A person at a terminal reads the stderr line; log collectors (JSON on stdout) get it too.
      if (!process.stdout.isTTY) logger.fatal({ code: (err as NodeJS.ErrnoException).code }, `cannot start: ${listen} (${(err as NodeJS.ErrnoException).code})`);
      process.stderr.write(`edgecam-server: ${listen}\n`);
      process.exit(1);
    }
    const message = err instanceof EdgeServerError || (err as NodeJS.ErrnoException).code ? (err as Error).message : String(err);
    logger.fatal({ err }, `cannot start: ${message}`);
    process.exit(1);
  }
  if (shuttingDown) return;
  const banner = bannerLines({
    host: config.host,
    tcpPort: running.tcpPort,
    httpPort: running.httpPort,
    source: config.cameras ? config.cameras.map((c) => `${c.name}: ${formatSourceSpec(c.source)}`).join(', ') : formatSourceSpec(config.source),
    ffmpeg: running.ffmpeg,
    version: VERSION,
    tls: running.tls,
    tokenRequired: running.access.required,
    allowLegacy: config.allowLegacy,
    missingDevice: config.source.kind === 'v4l2' && !existsSync(config.source.device) ? config.source.device : null,
    limits: { maxClients: config.maxClients, maxPerAddress: config.maxPerAddress },
  });
  process.stderr.write(banner.join('\n') + '\n');
}

void main();

import { Command, CommanderError } from 'commander';
import { packageVersion } from '@edgecam/runtime';
import type { Logger } from 'pino';
import { CliError, ExitCode, errorText, usageError } from './errors.js';
import type { LanFlags } from './lan-cameras.js';
import type { EventsFlags } from './events-command.js';
import { listenSchema, parseFlag } from './flag-values.js';
import { globalOptions, parseGlobals, serverNamed, type GlobalOptions, type RawGlobals } from './global-options.js';
import { withServerAddress } from './server-address.js';
import type { PullFlags } from './pull-command.js';
import type { RecordFlags } from './record-command.js';
import { createLogger, printError } from './terminal.js';

const ADDRESS_HELP = "the server: HOST, HOST:PORT or [IPv6]:PORT, PORT its TCP port (default --host and --port)";
const HTTP_ADDRESS_HELP = `${ADDRESS_HELP}; its HTTP side is found from there (or --http-port); an http(s):// URL also works`;

const EXIT_CODES_HELP = `
Exit codes: 0 ok, 1 unexpected, 2 usage, 3 connection (refused, timeout, closed, refused by the
server, e.g. a wrong token), 4 protocol (text or garbage instead of frames), 5 file, 6 TLS (the
server's certificate is not trusted or does not match --fingerprint), 130 interrupted before
anything was saved. Every global flag can also be set with its EDGECAM_* variable; EDGECAM_LOG_LEVEL sets
the log level (default warn).`;

/**
 * Parses argv and runs one command. Returns the exit code; never calls process.exit, so tests can
 * run it in-process.
 */
export async function runCli(argv: string[]): Promise<number> {
  let log: Logger | undefined;
  const logger = () => (log ??= createLogger());
  let exitCode: number = ExitCode.OK;

  const program = new Command('edgecam')
    .description('Snapshots, recordings and a live view from an edgecam server or a seed-era (legacy) server.')
    .version(packageVersion(import.meta.url, '@edgecam/client-cli'), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);
  for (const option of globalOptions()) program.addOption(option);

  const globals = (): GlobalOptions => {
    const raw = program.opts<RawGlobals>();
    return parseGlobals(raw, (key) => program.getOptionValueSource(key));
  };
  /** The globals with the command's `[HOST[:PORT]]` in place of --host and --port. */
  const at = (address: string | undefined): GlobalOptions => withServerAddress(globals(), address);

  // Each command's module is imported when it runs: a one-shot `record` or `snapshot` should not
  // pay for loading the viewer's HTTP page or the shell.
  program
    .command('snapshot')
    .description('save one frame as a JPEG (default name snapshot_<unix ms>.jpg)')
    .argument('[address]', ADDRESS_HELP)
    .option('-o, --output <file>', 'where to save the JPEG')
    .action(async (address: string | undefined, o: { output?: string }) => {
      const g = at(address);
      exitCode = await (await import('./snapshot-command.js')).snapshotCommand(g, o.output, logger());
    });

  program
    .command('record')
    .description('record the stream into an AVI (or raw .mjpeg) until a limit or Ctrl-C (default name video_stream_<unix ms>.avi)')
    .argument('[address]', ADDRESS_HELP)
    .option('-o, --output <file>', 'FILE.avi or FILE.mjpeg')
    .option('--frames <n>', 'stop after this many frames')
    .option('--duration <time>', 'stop after this long, counted from the first frame (10s, 1.5m, 2h)')
    .option('--segment <time>', 'start a new file every so often (10m)')
    .option('--segment-size <size>', 'start a new file before one grows past this size (1GB, 500MB, 1GiB)')
    .option('--reconnect', 'keep recording across lost connections (retries with backoff)')
    .option('--json', 'print the summary as JSON')
    .action(async (address: string | undefined, o: RecordFlags) => {
      const g = at(address);
      exitCode = await (await import('./record-command.js')).recordCommand(g, o, logger());
    });

  program
    .command('view')
    .description('serve a local web page with the live stream, its fps and a snapshot button')
    .argument('[address]', ADDRESS_HELP)
    .option(
      '--listen <host:port>',
      'where the page is served; loopback by default, since the page re-serves the camera without authentication',
      '127.0.0.1:8090',
    )
    .action(async (address: string | undefined, o: { listen: string }) => {
      const g = at(address);
      const listen = parseFlag(listenSchema, o.listen, '--listen');
      exitCode = await (await import('./view-command.js')).viewCommand(g, listen, logger());
    });

  program
    .command('events')
    .description('follow the camera events (motion start and end) of a server, one line each, until Ctrl-C')
    .argument('[address]', ADDRESS_HELP)
    .option('--all', "every camera of the server (a connection each), not only --camera's or the default")
    .option('--json', 'print each event as one line of JSON')
    .action(async (address: string | undefined, o: EventsFlags) => {
      const g = at(address);
      exitCode = await (await import('./events-command.js')).eventsCommand(g, o, logger());
    });

  program
    .command('shell')
    .description('interactive: 0 snapshot, 3 start recording, q stop, 2 quit, help (reads stdin, so it can be piped)')
    .argument('[address]', ADDRESS_HELP)
    .action(async (address: string | undefined) => {
      const g = at(address);
      exitCode = await (await import('./shell.js')).shellCommand(g, logger());
    });

  program
    .command('cameras')
    .description("list the server's cameras, the default one marked; with no address (nor --host, --port), every edgecam-server that answers on the LAN (mDNS)")
    .argument('[address]', `${ADDRESS_HELP}; none: look on the LAN`)
    .option('--json', 'print JSON: {address, protocol, server, cameras, default}, cameras null when the server serves one unnamed camera; on the LAN, a list of {name, address, cameras, http...}')
    .option('--wait <time>', 'on the LAN: how long to listen for answers (default 2s)')
    .option('--interface <name>', 'on the LAN: ask on this interface only (eth0, or one of its IPv4 addresses)')
    .action(async (address: string | undefined, o: { json?: boolean } & LanFlags) => {
      const g = at(address);
      if (address === undefined && !serverNamed((key) => program.getOptionValueSource(key))) {
        exitCode = await (await import('./lan-cameras.js')).lanCamerasCommand(o, o.json === true);
        return;
      }
      if (o.wait !== undefined || o.interface !== undefined) {
        throw usageError('--wait and --interface are for looking on the LAN: leave out the address (and --host, --port), or leave them out');
      }
      exitCode = await (await import('./cameras-command.js')).camerasCommand(g, o.json === true, logger());
    });

  program
    .command('recordings')
    .description("list what edgecam-server has recorded (over its HTTP side, found from its WELCOME or --http-port): camera, file, start, end, frames, size, problems")
    .argument('[address]', HTTP_ADDRESS_HELP)
    .option('--json', 'print JSON')
    .action(async (address: string | undefined, o: { json?: boolean }) => {
      const g = globals();
      exitCode = await (await import('./recordings-command.js')).recordingsCommand(g, address, o, logger());
    });

  program
    .command('pull')
    .description('download a time range of recordings, joined into one AVI or MP4 as recorded (no re-encoding) or, with --as-is, the segments as they are')
    .argument('[address]', HTTP_ADDRESS_HELP)
    .option('--from <time>', 'start: ISO 8601 (2026-12-01T17:00:00Z) or Unix time; default: the oldest recording')
    .option('--to <time>', 'end: ISO 8601 or Unix time; default: the newest recording')
    .option('-o, --output <path>', 'the AVI (or MP4, for MP4 recordings) to write, or the directory with --as-is')
    .option('--as-is', 'download the segments that cover the range, unchanged, into a directory')
    .option('--json', 'print the summary as JSON')
    .action(async (address: string | undefined, o: PullFlags) => {
      const g = globals();
      exitCode = await (await import('./pull-command.js')).pullCommand(g, address, o, logger());
    });

  program
    .command('info')
    .description('describe an AVI or MP4 file: frames, size, rate, duration, index and problems found')
    .argument('<file>', 'the AVI or MP4 file')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { json?: boolean }) => {
      exitCode = await (await import('./file-commands.js')).infoCommand(file, o.json === true);
    });

  program
    .command('repair')
    .description('rebuild the index of an AVI or MP4 cut short (e.g. a killed recording), keeping every complete frame')
    .argument('<file>', 'the damaged AVI or MP4 file')
    .option('-o, --output <file>', 'write the repaired file here instead of repairing in place')
    .action(async (file: string, o: { output?: string }) => {
      exitCode = await (await import('./file-commands.js')).repairCommand(file, o.output);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message already.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return ExitCode.OK;
      }
      return ExitCode.USAGE;
    }
    if (err instanceof CliError) {
      printError(`edgecam: ${err.message}`);
      return err.exitCode;
    }
    printError(`edgecam: unexpected error: ${errorText(err)}`);
    if (process.env.EDGECAM_DEBUG !== undefined && err instanceof Error) printError(err.stack ?? '');
    return ExitCode.UNEXPECTED;
  }
}

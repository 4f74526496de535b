// edgecam-server's command line: the flags (made from the option table), `config check` and
// `--config-schema`, and the configuration they resolve to through the layers (layers.ts,
// file-layer.ts, resolve.ts). A bad value is refused with one sentence naming where it came from.
import { Command, CommanderError, Option } from 'commander';
import type { z } from 'zod';
import { cameraFileKeys } from './camera-config.js';
import { ConfigError } from './config-error.js';
import { COMMAND_OPTIONS, OPTIONS, OPTION_KEYS, configFileJsonSchema, defaultOf, type OptionSpec } from './config-options.js';
import { formatResolved, reportRows, type ReportSecrets } from './config-report.js';
import { CONFIG_ENV, CONFIG_FLAG, fileLayer } from './file-layer.js';
import { defaultsLayer, envLayer, flagLayer } from './layers.js';
import { DEFAULT_CONFIG, resolve, type EdgeServerConfig, type Resolved, type ServerConfig, type SourceCheck } from './resolve.js';
import { SERVICE_SCHEMAS } from './service-blocks.js';

export { LOG_LEVELS, defaultTlsDir, type LogLevel } from './config-options.js';
export { ConfigError } from './config-error.js';
export { DEFAULT_CONFIG, type EdgeServerConfig, type ServerConfig } from './resolve.js';

/** Shorter tokens work, but are guessable enough to warn about. */
export const SHORT_TOKEN_LENGTH = 12;

function helpLine(spec: OptionSpec, env: NodeJS.ProcessEnv): string {
  if (!spec.flag.includes('<')) return `${spec.help} (${spec.env}=${spec.flag.startsWith('--no-') ? 'off' : 'on'})`;
  const value = defaultOf(spec, env);
  return value === null ? `${spec.help} (${spec.env})` : `${spec.help} (${spec.env}, default ${String(value)})`;
}

/** What the command line asks for besides running the server. */
interface Asked {
  check?: { json: boolean };
}

function buildProgram(version: string, env: NodeJS.ProcessEnv, write: (s: string) => void, asked: Asked): Command {
  const program = new Command('edgecam-server')
    .description('Serve a camera (or ffmpeg test pattern) to edgecam, seed-era and HTTP clients on the LAN.')
    .version(version)
    // Before the subcommands, which inherit both.
    .configureOutput({ writeOut: write, writeErr: write })
    .exitOverride();
  program.option(COMMAND_OPTIONS.config.flag, `${COMMAND_OPTIONS.config.help} (${COMMAND_OPTIONS.config.env})`);
  program.option(COMMAND_OPTIONS.configSchema.flag, COMMAND_OPTIONS.configSchema.help);
  for (const key of OPTION_KEYS) {
    const spec: OptionSpec = OPTIONS[key];
    const option = new Option(spec.flag, helpLine(spec, env));
    if (spec.conflicts) option.conflicts([...spec.conflicts]);
    program.addOption(option);
  }
  program.allowExcessArguments(false).action(() => undefined);
  // The server's options stay the program's, so they are read after `config check` too.
  program
    .command('config')
    .description('about the configuration')
    .command('check')
    .description(`print the configuration the options resolve to (defaults < ${CONFIG_FLAG} file < variables < flags), the token masked, and exit; or every problem, and exit 2`)
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { json?: boolean }) => {
      asked.check = { json: opts.json === true };
    });
  return program;
}

export type CommandLineResult = { config: ServerConfig } | { exitCode: number; output: string };

/**
 * Parses argv (without node and the script) and the environment. Returns the config, or what to
 * print and the exit code for --help, --version, `config check` and usage errors (2). Throws
 * ConfigError for a bad value; callers print its problems and exit 2.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env, version = '0.0.0'): CommandLineResult {
  return commandLine(argv, env, version, {});
}

/**
 * Tests only: parseCommandLine with `config check` printing secrets in clear, so that a test can
 * read its output back and compare the configurations whole. No flag or variable reaches it.
 */
export function parseCommandLineRevealingSecrets(argv: string[], env: NodeJS.ProcessEnv = {}, version = '0.0.0'): CommandLineResult {
  return commandLine(argv, env, version, { reveal: true });
}

function commandLine(argv: string[], env: NodeJS.ProcessEnv, version: string, secrets: ReportSecrets): CommandLineResult {
  let output = '';
  const asked: Asked = {};
  const program = buildProgram(version, env, (s) => (output += s), asked);
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; a usage error, or `config` without `check`, is 2.
      return { exitCode: err.exitCode === 0 ? 0 : 2, output };
    }
    throw err;
  }
  if (program.opts().configSchema === true) return { exitCode: 0, output: `${JSON.stringify(configFileJsonSchema(fileKeys()), null, 2)}\n` };
  const run = (sources: SourceCheck): Resolved => {
    const layers = [defaultsLayer(env)];
    const file = configFileFrom(program, env);
    const read = file ? fileLayer(file.path, file.name) : undefined;
    if (read) layers.push(read.layer);
    layers.push(envLayer(env), flagLayer(program));
    return resolve(layers, read?.cameras, sources);
  };
  if (!asked.check) return { config: run('file').config };
  try {
    // Every file: source is looked for, wherever it was given: what would stop the server at start stops the check.
    const { config, merged, fileCameras } = run('all');
    return { exitCode: 0, output: formatResolved(reportRows(config, merged, fileCameras, secrets), asked.check.json ? 'json' : 'yaml', version, secrets) };
  } catch (err) {
    if (err instanceof ConfigError) return { exitCode: 2, output: err.problems.map((p) => `${p}\n`).join('') };
    throw err;
  }
}

/** The keys a file has besides the options: the cameras, the features' defaults, and the services' blocks. */
function fileKeys(): Record<string, z.ZodType> {
  return { ...cameraFileKeys(), ...SERVICE_SCHEMAS };
}

/** The --config file, and how a refusal names where its path came from. */
function configFileFrom(program: Command, env: NodeJS.ProcessEnv): { path: string; name: string } | undefined {
  const flag: unknown = program.opts().config;
  if (typeof flag === 'string') return { path: flag, name: CONFIG_FLAG };
  const variable = env[CONFIG_ENV];
  return variable ? { path: variable, name: `${CONFIG_ENV} (${CONFIG_FLAG})` } : undefined;
}

// Parsing a command line in tests: the config it gives, or the sentence it is refused with.
import { expect } from 'vitest';
import { ConfigError, parseCommandLine, type ServerConfig } from '../../src/config/config.js';

export function config(argv: string[], env: NodeJS.ProcessEnv = {}): ServerConfig {
  const r = parseCommandLine(argv, env);
  if (!('config' in r)) throw new Error(`expected a config, got exit ${r.exitCode}: ${r.output}`);
  return r.config;
}

export function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseCommandLine(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

// The package version, read from package.json (one directory above both src/ and dist/).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** This package's version, as WELCOME and /status report it. */
export const VERSION: string = (require('../package.json') as { version: string }).version;
/** The server name WELCOME and /status report. */
export const SERVER_NAME = 'edgecam-server';

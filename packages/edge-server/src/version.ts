// The package version, read from package.json (above dist/, or dist/bundle/ for the bundled command).
import { packageVersion } from '@edgecam/runtime';

/** This package's version, as WELCOME and /status report it. */
export const VERSION: string = packageVersion(import.meta.url, '@edgecam/edge-server');
/** The server name WELCOME and /status report. */
export const SERVER_NAME = 'edgecam-server';

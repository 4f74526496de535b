#!/usr/bin/env node
import { runCli } from './program.js';

// process.exit rather than waiting for the event loop: a half-closed socket or a pending timer
// must not keep a finished command alive. stdout and stderr are synchronous for files and pipes
// on Linux, so nothing printed is lost.
process.exit(await runCli(process.argv));

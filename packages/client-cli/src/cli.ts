#!/usr/bin/env node
import { runCli } from './program.js';

// process.exit rather than waiting for the event loop: a half-closed socket or a pending timer
// must not keep a finished command alive. stdout and stderr are synchronous for files and pipes
// on Linux, so nothing printed is lost. (No top-level await: the bundle is a CommonJS script.)
void runCli(process.argv).then((code) => process.exit(code));

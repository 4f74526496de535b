// The public API of @edgecam/client-cli: the `edgecam` command (bin: bin/edgecam.js, which runs dist/cli.js) and the client
// connection it is built on, for programs that want frames without shelling out.
export { connect } from './negotiate.js';
export { nextFrame } from './frame-timeout.js';
export type { ConnectOptions, ProtocolChoice, ServerConnection, TlsOptions, WireProtocol } from './connection.js';
export { CliError, ExitCode, type ExitCodeValue } from './errors.js';
export { takeSnapshot } from './snapshot.js';
export { runCli } from './program.js';

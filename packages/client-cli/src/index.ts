// The public API of @edgecam/client-cli: the `edgecam` command (bin: bin/edgecam.js, which runs dist/cli.js) and the client
// connection it is built on, for programs that want frames without shelling out.
export {
  connect,
  nextFrame,
  type ConnectOptions,
  type ServerConnection,
  type WireProtocol,
} from './connection.js';
export { CliError, ExitCode, type ExitCodeValue } from './errors.js';
export type { ProtocolChoice } from './options.js';
export { takeSnapshot } from './snapshot.js';
export { runCli } from './program.js';

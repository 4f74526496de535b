// A naive implementation of the seed's design (`../shared/seed/` beside this repository), for
// the benchmarks to compare edgecam against. Not used by any package.
export { NaiveSeedClient } from './client.js';
export { RECV_SIZE, readAllFramesSync, receiveImageSync, recvFromChunks, type SyncRecv } from './frame-reader.js';
export { startNaiveSeedServer, type NaiveSeedServer, type NaiveSeedServerOptions } from './server.js';

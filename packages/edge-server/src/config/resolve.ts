// From the merged layers to the configuration the server runs with: the token file read, the
// combinations checked (TLS, ports, ceilings), the cameras completed from the top-level options.
import { readFileSync } from 'node:fs';
import { describeSystemError, TOKEN_EXPECT, TOKEN_PATTERN } from '@edgecam/runtime';
import { FEATURE_KEYS, type CameraConfig, type CameraFeatures } from './camera-config.js';
import type { ServiceBlocks } from './service-blocks.js';
import { OPTIONS, flagName, type OptionKey, type Options } from './config-options.js';
import { ConfigError } from './config-error.js';
import { type Layer, type Winner, defaultsLayer, nameOf, merge, validate } from './layers.js';
import type { FileCameras } from './file-layer.js';
import { missingSourceFile } from '../sources/source-spec.js';

export function readTokenFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path}: ${describeSystemError(err)}`);
  }
  // Files written by `echo` or an editor end with a newline that is no part of the token.
  const token = text.replace(/[\r\n]+$/, '');
  if (!TOKEN_PATTERN.test(token)) {
    throw new ConfigError(`${name}: ${path} must hold the token alone, ${TOKEN_EXPECT} (it holds ${token.length} characters)`);
  }
  return token;
}

export function checkTls(o: Options, merged: Record<OptionKey, Winner>): void {
  if ((o.tlsCert === null) !== (o.tlsKey === null)) {
    const [given, missing] = o.tlsCert !== null ? (['tlsCert', 'tlsKey'] as const) : (['tlsKey', 'tlsCert'] as const);
    throw new ConfigError(`${nameOf(given, merged[given].origin)} needs ${flagName(OPTIONS[missing])} too: TLS takes a certificate and its private key`);
  }
  if (o.tlsSelfSigned && o.tlsCert !== null) {
    throw new ConfigError(
      `${nameOf('tlsSelfSigned', merged.tlsSelfSigned.origin)} and ${nameOf('tlsCert', merged.tlsCert.origin)}: use your own certificate or a self-signed one, not both`,
    );
  }
}

export function checkPorts(o: Options, merged: Record<OptionKey, Winner>): void {
  // Caught here, the second listen would otherwise fail as "port in use" by this very server.
  if (o.http && o.port !== 0 && o.port === o.httpPort) {
    throw new ConfigError(
      `${nameOf('port', merged.port.origin)} and ${nameOf('httpPort', merged.httpPort.origin)}: both are ${o.port}; TCP and HTTP need a port each`,
    );
  }
}

/** What a ceiling (maxSize, maxFps) leaves out of the capture it is set for, in words; undefined when nothing. */
export function belowCapture(size: { width: number; height: number }, fps: number, maxSize: { width: number; height: number } | null, maxFps: number | null): { key: 'maxSize' | 'maxFps'; text: string } | undefined {
  if (maxSize && (maxSize.width < size.width || maxSize.height < size.height)) {
    return { key: 'maxSize', text: `${maxSize.width}x${maxSize.height} is below the capture size ${size.width}x${size.height}` };
  }
  if (maxFps !== null && maxFps < fps) return { key: 'maxFps', text: `${maxFps} is below the capture rate ${fps}` };
  return undefined;
}

export function checkCeilings(o: Options, merged: Record<OptionKey, Winner>): void {
  const below = belowCapture(o.size, o.fps, o.maxSize, o.maxFps);
  if (below) throw new ConfigError(`${nameOf(below.key, merged[below.key].origin)}: ${below.text}; raise it, or lower ${below.key === 'maxSize' ? '--size' : '--fps'}`);
}

/** The options as the server uses them: the size split, no HTTP as a null port, seconds named. */
export function toConfig(o: Options, token: string | null) {
  return {
    host: o.host,
    port: o.port,
    /** null with --no-http. */
    httpPort: o.http ? o.httpPort : null,
    source: o.source,
    width: o.size.width,
    height: o.size.height,
    fps: o.fps,
    /** The most PUT /settings may ask for; null: width, height and fps. */
    maxWidth: o.maxSize?.width ?? null,
    maxHeight: o.maxSize?.height ?? null,
    maxFps: o.maxFps,
    /** 1..100, mapped onto ffmpeg's -q:v. */
    quality: o.quality,
    /** Seconds the capture runs on after the last consumer leaves. */
    idleStopSeconds: o.idleStop,
    alwaysOn: o.alwaysOn,
    /** Per protocol; 0 for no limit. */
    maxClients: o.maxClients,
    /** TCP connections from one address (IPv6: one /64); 0 for no limit. */
    maxPerAddress: o.maxPerAddress,
    logLevel: o.logLevel,
    /** v2 clients must send HELLO within this many seconds. */
    helloTimeoutSeconds: o.helloTimeout,
    /** TCP connections without their first byte yet, at most; the oldest is closed for a new one, so a flood of silent connections cannot lock real clients out. */
    maxPending: o.maxPending,
    /** A legacy (or not yet identified) connection silent this long while not receiving frames is closed; 0: never. */
    idleTimeoutSeconds: o.idleTimeout,
    /** Clients must present this (v2 HELLO, HTTP); null: anyone who can reach the server gets in. */
    token,
    /** With a token set, still let legacy clients in (they cannot present one). */
    allowLegacy: o.allowLegacy,
    /** PEM files for TLS (both or neither). */
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    /** Make (once) and use a self-signed certificate kept in tlsDir. */
    tlsSelfSigned: o.tlsSelfSigned,
    tlsDir: o.tlsDir,
    /** HTTP requests per second per address, for everything but the stream; 0: no limit. */
    httpRateLimit: o.httpRateLimit,
    /** Without a token, the host names HTTP answers to besides IP addresses, localhost, *.local and this machine's. */
    allowedHosts: o.allowedHosts,
    /** In MQTT topics and Home Assistant ids: a-z, 0-9, _ and -; the name mDNS announces. */
    name: o.name,
    /** Announce the server on the LAN over mDNS/DNS-SD (--no-mdns: false). */
    mdns: o.mdns,
  };
}

/** The options the server runs with. */
export type EdgeServerConfig = ReturnType<typeof toConfig>;

/** The options and the config file's cameras. */
export type ServerConfig = EdgeServerConfig &
  ServiceBlocks & {
    /** The file's cameras, the default first; null or absent: one camera named `default`, from the options. */
    cameras?: CameraConfig[] | null;
    /** The file's top-level feature blocks, for the one camera without a `cameras:` map (the named ones have them resolved in). */
    features?: Partial<CameraFeatures>;
  };

/** The configuration, and per option the value that won and where it came from. */
export interface Resolved {
  config: ServerConfig;
  merged: Record<OptionKey, Winner>;
  fileCameras?: FileCameras;
}

/**
 * Which `file:` sources resolve() looks for: `file`, those the config file gives (its cameras', and
 * its top-level `source:`), the one a flag or variable gives being refused at start as before; or
 * `all` (config check).
 */
export type SourceCheck = 'file' | 'all';

/** Merges the layers (lowest first, the defaults first of all), checks them and reads the token file. */
export function resolve(layers: readonly Layer[], fileCameras?: FileCameras, sources: SourceCheck = 'file'): Resolved {
  const merged = merge(layers);
  const o = validate(merged);
  const token = o.tokenFile !== null ? readTokenFile(o.tokenFile, nameOf('tokenFile', merged.tokenFile.origin)) : o.token;
  checkTls(o, merged);
  checkPorts(o, merged);
  checkCeilings(o, merged);
  const cameras = fileCameras ? resolveCameras(o, fileCameras) : null;
  checkSourceFiles(o, merged, fileCameras, sources);
  const features = fileCameras && Object.keys(fileCameras.features).length > 0 ? { features: fileCameras.features } : {};
  const services = Object.fromEntries(Object.entries(fileCameras?.services ?? {}).filter(([, block]) => block !== null && block !== undefined));
  return { config: { ...toConfig(o, token), ...(cameras ? { cameras } : {}), ...features, ...services }, merged, fileCameras };
}

/** The file's cameras with every key left out taken from the options, the default first. */
export function resolveCameras(o: Options, file: FileCameras): CameraConfig[] | null {
  const { path } = file;
  if (!file.cameras) {
    if (file.default) throw new ConfigError(`${path}:${file.default.line}: default: there is no cameras: map to choose from; add one or remove default:`);
    return null;
  }
  const cameras = file.cameras.map(({ name, entry }): CameraConfig => {
    const size = entry.size ?? o.size;
    const fps = entry.fps ?? o.fps;
    const maxSize = entry.maxSize !== undefined ? entry.maxSize : o.maxSize;
    const maxFps = entry.maxFps !== undefined ? entry.maxFps : o.maxFps;
    const below = belowCapture(size, fps, maxSize, maxFps);
    if (below) throw new ConfigError(`${path}: cameras.${name}.${below.key}: ${below.text}; raise it, or lower the camera's ${below.key === 'maxSize' ? 'size' : 'fps'}`);
    return {
      name,
      source: entry.source ?? o.source,
      width: size.width,
      height: size.height,
      fps,
      maxWidth: maxSize?.width ?? null,
      maxHeight: maxSize?.height ?? null,
      maxFps,
      quality: entry.quality ?? o.quality,
      idleStopSeconds: entry.idleStop ?? o.idleStop,
      alwaysOn: entry.alwaysOn ?? o.alwaysOn,
      legacyPort: entry.legacyPort ?? null,
      // Each feature block: the camera's own, else the top-level one, else none.
      ...(Object.fromEntries(FEATURE_KEYS.map((key) => [key, blockGiven(entry[key]) ?? blockGiven(file.features[key]) ?? null])) as CameraFeatures),
    };
  });
  const names = cameras.map((c) => c.name);
  const chosen = file.default?.name ?? names[0];
  const first = cameras.find((c) => c.name === chosen);
  if (!first) throw new ConfigError(`${path}:${file.default?.line ?? 0}: default: no camera ${JSON.stringify(chosen)}; the cameras are ${names.join(', ')}`);
  const taken = new Map<number, string>([[o.port, 'port']]);
  if (o.http) taken.set(o.httpPort, 'httpPort');
  for (const c of cameras) {
    if (c.legacyPort === null) continue;
    const holder = taken.get(c.legacyPort);
    if (holder) {
      throw new ConfigError(`${path}: cameras.${c.name}.legacyPort: ${c.legacyPort} is already ${holder}'s; give each camera's legacy port a number of its own`);
    }
    taken.set(c.legacyPort, `cameras.${c.name}.legacyPort`);
  }
  if (cameras.filter((c) => c.source.kind === 'stdin').length > 1) {
    throw new ConfigError(`${path}: cameras: only one camera can read stdin`);
  }
  return [first, ...cameras.filter((c) => c !== first)];
}

/**
 * Refuses every `file:` source with nothing at its path, named where it was given: a camera's own
 * `FILE:LINE: cameras.NAME.source`, or the top-level source it takes and where that came from.
 */
export function checkSourceFiles(o: Options, merged: Record<OptionKey, Winner>, file: FileCameras | undefined, sources: SourceCheck): void {
  const problems: string[] = [];
  const top = merged.source.origin;
  const topText = top.layer === 'file' ? `${top.path}:${top.line}` : nameOf('source', top);
  if (file?.cameras) {
    for (const c of file.cameras) {
      const spec = c.entry.source ?? o.source;
      const missing = missingSourceFile(spec);
      if (!missing) continue;
      problems.push(
        c.sourceLine !== undefined
          ? `${file.path}:${c.sourceLine}: cameras.${c.name}.source: ${missing}`
          : `${file.path}:${c.line}: cameras.${c.name}.source (the top-level source, from ${topText}): ${missing}`,
      );
    }
  } else if (sources === 'all' || top.layer === 'file') {
    const missing = missingSourceFile(o.source);
    if (missing) problems.push(`${nameOf('source', top)}: ${missing}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The configuration with nothing given, in this process's environment. */
export const DEFAULT_CONFIG: EdgeServerConfig = resolve([defaultsLayer(process.env)]).config;

/** A block as given, or undefined when absent; a list block's schema default, [], is absent too (publish:). */
function blockGiven<T>(block: T | null | undefined): T | undefined {
  return block === null || block === undefined || (Array.isArray(block) && block.length === 0) ? undefined : block;
}

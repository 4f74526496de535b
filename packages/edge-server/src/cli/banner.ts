// The few lines printed on start: where to connect, and which ffmpeg runs the capture.
import { networkInterfaces } from 'node:os';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';

/** What the banner reports, from the config and the running server. */
export interface BannerInput {
  host: string;
  tcpPort: number;
  httpPort: number | null;
  source: string;
  ffmpeg: ResolvedFfmpeg | null;
  version: string;
  /** Present when TCP and HTTP are served over TLS. */
  tls?: { fingerprint256: string; certPath: string; origin: 'files' | 'created' | 'reused' } | null;
  /** A token is required. */
  tokenRequired?: boolean;
  /** The client limits in force (0: none). */
  limits?: { maxClients: number; maxPerAddress: number };
  allowLegacy?: boolean;
  /** A v4l2 device that is not there yet (it may be plugged in later). */
  missingDevice?: string | null;
}

/** Addresses a client on the LAN can use: the host itself, or every IPv4 address for a wildcard. */
export function connectHosts(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [host.includes(':') ? `[${host}]` : host];
  const found: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) found.push(a.address);
  }
  return [...found, '127.0.0.1'];
}

/** The client limits in words, with the flags that lift them. */
function limitsText({ maxClients, maxPerAddress }: { maxClients: number; maxPerAddress: number }): string {
  const clients = maxClients > 0 ? `${maxClients} clients per protocol (TCP legacy, TCP v2) and per kind of HTTP stream (MJPEG, replay, WebRTC, events)` : 'no client limit';
  const perAddress = maxPerAddress > 0 ? `${maxPerAddress} TCP connections and ${maxPerAddress} HTTP streams of each kind per host` : 'no per-address limit';
  return `${clients}, ${perAddress}; raise with --max-clients and --max-per-address (0: no limit)`;
}

/** The banner's lines, without newlines. */
export function bannerLines(b: BannerInput): string[] {
  const hosts = connectHosts(b.host);
  const lines = [`edgecam-server ${b.version}: ${b.source}`];
  if (b.missingDevice) {
    lines.push(`  Camera: ${b.missingDevice} does not exist yet; the capture retries until it is plugged in (check the device name with \`ls /dev/video*\`)`);
  }
  const tcp = b.tls ? 'tls' : 'tcp';
  const http = b.tls ? 'https' : 'http';
  lines.push(`  TCP  (edgecam, seed clients): ${hosts.map((h) => `${tcp}://${h}:${b.tcpPort}`).join('  ')}`);
  if (b.httpPort !== null) lines.push(`  HTTP (browser, VLC, ffmpeg): ${hosts.map((h) => `${http}://${h}:${b.httpPort}/`).join('  ')}`);
  else lines.push('  HTTP: off (--no-http)');
  if (b.tls) {
    const made = b.tls.origin === 'created' ? 'self-signed, made now' : b.tls.origin === 'reused' ? 'self-signed' : 'from --tls-cert';
    lines.push(`  TLS: ${b.tls.certPath} (${made})`);
    lines.push(`  TLS fingerprint (SHA-256): ${b.tls.fingerprint256}`);
  } else {
    lines.push('  TLS: off (traffic and tokens cross the network in clear; see --tls-self-signed)');
  }
  if (b.tokenRequired) {
    lines.push(
      b.allowLegacy
        ? '  Access: token required (v2, HTTP); legacy clients can connect without a token (--allow-legacy)'
        : '  Access: token required (v2, HTTP); legacy clients refused (they cannot send a token; --allow-legacy lets them in)',
    );
  } else {
    lines.push('  Access: open to anyone who can reach these ports (no --token)');
  }
  if (b.limits) lines.push(`  Limits: ${limitsText(b.limits)}`);
  lines.push(b.ffmpeg ? `  ffmpeg: ${b.ffmpeg.path} (via ${b.ffmpeg.via})` : '  ffmpeg: not used (frames come from standard input)');
  return lines;
}

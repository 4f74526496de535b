// What the server announces over mDNS once it listens: its name, ports, TLS and cameras, at the
// addresses it can be reached on. A server that listens on loopback only is not announced (nobody
// on the LAN could connect); every trouble of the network is one log line, never a stop.
import { isIP } from 'node:net';
import { announce, localAddresses, type Announcement, type DiscoveryError } from '@edgecam/discovery';
import type { Logger } from 'pino';
import type { ListeningAt } from '../camera/service.js';
import type { DiscoveryConfig } from './discovery-config.js';

/** Why a listen address cannot be announced, or undefined when it can. */
export function notAnnounced(host: string): string | undefined {
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  return loopback ? `the server listens on ${host} only (--host), which no other machine can reach` : undefined;
}

/** The addresses to announce for a listen address: itself when it is one, else those of the interfaces it covers. */
export function addressesFor(host: string, interfaces: readonly string[]): readonly string[] {
  if (host === '0.0.0.0') return interfaces.filter((a) => isIP(a) === 4);
  // `::` is every address; so is a host name, for want of knowing what it resolves to here.
  if (host === '::' || isIP(host) === 0) return interfaces;
  return [host];
}

export interface ServerAnnouncement {
  readonly name: string;
  readonly cameras: readonly string[];
  readonly at: ListeningAt;
  readonly config: DiscoveryConfig;
  readonly logger: Logger;
}

const FIX = 'the server serves on without being found on the LAN (--no-mdns stops announcing)';

/** Announces the server, or says in one line why it does not; undefined when nothing runs. */
export function announceServer(s: ServerAnnouncement): Announcement | undefined {
  const why = notAnnounced(s.at.host);
  if (why !== undefined) {
    s.logger.info(`not announced on the LAN over mDNS: ${why}; listen on 0.0.0.0 or a LAN address to be found`);
    return undefined;
  }
  // Asked at each announcement: an address that comes later (DHCP after boot) is announced too.
  const addresses = () => addressesFor(s.at.host, localAddresses(s.config.interface));
  const onError = (err: DiscoveryError) => {
    if (err.code === 'CONFLICT') s.logger.warn({ code: err.code }, `mDNS: ${err.message} (--name)`);
    else s.logger.warn({ code: err.code }, `mDNS: ${err.message}; ${FIX}`);
  };
  try {
    return announce({
      name: s.name,
      tcpPort: s.at.tcpPort,
      httpPort: s.at.httpPort,
      httpPath: '/',
      scheme: s.at.tls ? 'https' : 'http',
      tls: s.at.tls,
      cameras: s.cameras,
      ...(s.config.interface !== undefined ? { interface: s.config.interface } : {}),
      addresses,
      onError,
      onAnnounced: (at) => s.logger.info({ addresses: at }, `announced on the LAN over mDNS as ${s.name} (_edgecam._tcp${s.at.httpPort !== null ? ', _http._tcp' : ''})`),
    });
  } catch (err) {
    // Refused options (an interface the machine does not have): the same one line.
    onError(err as DiscoveryError);
    return undefined;
  }
}

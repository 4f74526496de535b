import { describe, expect, it } from 'vitest';
import packet from 'dns-packet';
import { ServerCollector } from '../src/index.js';
import { allRecords, answersTo, HOST_TTL, OTHER_TTL, type Announced } from '../src/records.js';

const GARAGE: Announced = {
  name: 'garage',
  tcpPort: 6810,
  httpPort: 8080,
  path: '/',
  scheme: 'http',
  tls: false,
  cameras: ['front', 'door'],
  cameraCount: 2,
  addresses: ['192.168.1.20', 'fd00::20'],
};

/** name TYPE ttl, for readable comparisons. */
const brief = (records: readonly packet.Answer[]) => records.map((r) => `${r.name} ${r.type} ${'ttl' in r ? r.ttl : ''}`);

describe('the records of an announcement', () => {
  it('are PTR, SRV and TXT of both services and the host addresses, with RFC 6762 lifetimes', () => {
    expect(brief(allRecords(GARAGE))).toEqual([
      `_edgecam._tcp.local PTR ${OTHER_TTL}`,
      `garage._edgecam._tcp.local SRV ${HOST_TTL}`,
      `garage._edgecam._tcp.local TXT ${OTHER_TTL}`,
      `_http._tcp.local PTR ${OTHER_TTL}`,
      `garage._http._tcp.local SRV ${HOST_TTL}`,
      `garage._http._tcp.local TXT ${OTHER_TTL}`,
      `edgecam-garage.local A ${HOST_TTL}`,
      `edgecam-garage.local AAAA ${HOST_TTL}`,
    ]);
  });

  it('leave out _http._tcp for a server without HTTP', () => {
    expect(brief(allRecords({ ...GARAGE, httpPort: null })).some((r) => r.includes('_http'))).toBe(false);
  });

  it('say goodbye as the same records with TTL 0', () => {
    const bye = allRecords(GARAGE, true);
    expect(bye.map((r) => ('ttl' in r ? r.ttl : -1))).toEqual(bye.map(() => 0));
    expect(bye.map((r) => r.name)).toEqual(allRecords(GARAGE).map((r) => r.name));
  });

  it('encode into one packet that a browser reads back as the server', () => {
    const bytes = packet.encode({ type: 'response', answers: allRecords(GARAGE) });
    const collector = new ServerCollector();
    collector.add(packet.decode(bytes), '192.168.1.20');
    expect(collector.servers()).toEqual([
      {
        name: 'garage',
        host: '192.168.1.20',
        addresses: ['192.168.1.20', 'fd00::20'],
        hostname: 'edgecam-garage.local',
        tcpPort: 6810,
        httpPort: 8080,
        path: '/',
        scheme: 'http',
        tls: false,
        cameras: ['front', 'door'],
        cameraCount: 2,
      },
    ]);
  });

  it('name the HTTP port and path= under _http._tcp', () => {
    const http = allRecords(GARAGE).filter((r) => r.name === 'garage._http._tcp.local');
    expect(http.find((r) => r.type === 'SRV')?.data).toMatchObject({ port: 8080, target: 'edgecam-garage.local' });
    expect(http.find((r) => r.type === 'TXT')?.data).toEqual([Buffer.from('path=/')]);
  });
});

describe('answers to queries', () => {
  it('answer a browse (PTR) with the PTR, and bring SRV, TXT and addresses along', () => {
    const { answers, additionals } = answersTo(GARAGE, [{ name: '_edgecam._tcp.local', type: 'PTR' }]);
    expect(brief(answers)).toEqual([`_edgecam._tcp.local PTR ${OTHER_TTL}`]);
    expect(brief(additionals)).toEqual([
      `garage._edgecam._tcp.local SRV ${HOST_TTL}`,
      `garage._edgecam._tcp.local TXT ${OTHER_TTL}`,
      `edgecam-garage.local A ${HOST_TTL}`,
      `edgecam-garage.local AAAA ${HOST_TTL}`,
    ]);
  });

  it('answer an SRV question with the SRV and the addresses, in any letter case', () => {
    const { answers, additionals } = answersTo(GARAGE, [{ name: 'GARAGE._edgecam._tcp.local', type: 'SRV' }]);
    expect(brief(answers)).toEqual([`garage._edgecam._tcp.local SRV ${HOST_TTL}`]);
    expect(brief(additionals)).toEqual([`edgecam-garage.local A ${HOST_TTL}`, `edgecam-garage.local AAAA ${HOST_TTL}`]);
  });

  it('list both service types for DNS-SD enumeration', () => {
    const { answers } = answersTo(GARAGE, [{ name: '_services._dns-sd._udp.local', type: 'PTR' }]);
    expect(answers.map((r) => ('data' in r ? r.data : undefined))).toEqual(['_edgecam._tcp.local', '_http._tcp.local']);
  });

  it('answer ANY for the host name with its addresses', () => {
    const { answers } = answersTo(GARAGE, [{ name: 'edgecam-garage.local', type: 'ANY' as packet.RecordType }]);
    expect(answers.map((r) => ('data' in r ? r.data : undefined))).toEqual(['192.168.1.20', 'fd00::20']);
  });

  it('answer nothing for names that are not ours', () => {
    for (const name of ['_http._tcp.local', 'kitchen._edgecam._tcp.local', 'garage.local']) {
      const q = answersTo({ ...GARAGE, httpPort: null }, [{ name, type: 'PTR' }, { name, type: 'A' }]);
      expect(q.answers).toEqual([]);
    }
  });
});

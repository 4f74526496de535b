// What the discovery service announces for each --host: pure rules, no network.
import { describe, expect, it } from 'vitest';
import { addressesFor, notAnnounced } from '../src/discovery/announce-server.js';

const MACHINE = ['192.168.1.20', 'fd00::20', '172.17.0.1'];

describe('the addresses a server is announced at', () => {
  it('are every IPv4 address for 0.0.0.0, every address for ::', () => {
    expect(addressesFor('0.0.0.0', MACHINE)).toEqual(['192.168.1.20', '172.17.0.1']);
    expect(addressesFor('::', MACHINE)).toEqual(MACHINE);
  });

  it('are the one address --host names', () => {
    expect(addressesFor('192.168.1.20', MACHINE)).toEqual(['192.168.1.20']);
    expect(addressesFor('fd00::20', MACHINE)).toEqual(['fd00::20']);
  });

  it('are none for loopback, which no other machine can reach', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost']) {
      expect(notAnnounced(host)).toBe(`the server listens on ${host} only (--host), which no other machine can reach`);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'camera.lan']) expect(notAnnounced(host)).toBeUndefined();
  });
});

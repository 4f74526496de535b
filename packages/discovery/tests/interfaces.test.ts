import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DiscoveryError } from '../src/index.js';
import { interfaceAddress, localAddresses } from '../src/interfaces.js';

const info = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal }) as NetworkInterfaceInfo;

// A Pi on Ethernet and Wi-Fi, with docker: what os.networkInterfaces() gives.
const PI: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
  eth0: [info('192.168.1.20', 'IPv4'), info('fe80::1', 'IPv6'), info('fd00::20', 'IPv6')],
  wlan0: [info('192.168.2.30', 'IPv4'), info('FE80::2', 'IPv6')],
  docker0: [info('172.17.0.1', 'IPv4')],
};

describe('the addresses announced', () => {
  it('are every interface\'s but loopback and IPv6 link-local', () => {
    expect(localAddresses(undefined, PI)).toEqual(['192.168.1.20', 'fd00::20', '192.168.2.30', '172.17.0.1']);
  });

  it('are one interface\'s when one is named, by its name or one of its addresses', () => {
    expect(localAddresses('eth0', PI)).toEqual(['192.168.1.20', 'fd00::20']);
    expect(localAddresses('192.168.2.30', PI)).toEqual(['192.168.2.30']);
    expect(localAddresses('wlan9', PI)).toEqual([]);
  });
});

describe('the interface multicast-dns is given', () => {
  it('is the IPv4 address of a named interface, or the address given', () => {
    expect(interfaceAddress('wlan0', PI)).toBe('192.168.2.30');
    expect(interfaceAddress('10.0.0.1', PI)).toBe('10.0.0.1');
  });

  it('is refused, naming the interfaces there are, when the machine has no such one', () => {
    expect(() => interfaceAddress('wlan9', PI)).toThrow(new DiscoveryError('BAD_OPTIONS', 'no interface "wlan9" with an IPv4 address here: name one of lo, eth0, wlan0, docker0, or an IPv4 address of one'));
  });
});

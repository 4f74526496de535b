// The pieces access control is built from, without sockets: bounded per-address tables, the
// failure throttle, the request rate limit, the constant-time token check and where HTTP
// requests carry a token.
import { describe, expect, it } from 'vitest';
import { AccessControl } from '../src/access/access-control.js';
import { addressKey } from '../src/access/address-key.js';
import { FailureThrottle } from '../src/access/failure-throttle.js';
import { LruMap } from '../src/access/lru-map.js';
import { RateLimiter } from '../src/access/rate-limiter.js';
import { presentedTokens, redactUrl, tokenFromAuthorization } from '../src/http/http-credentials.js';
import { memoryLogger } from './support/logger.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe('LruMap', () => {
  it('never holds more than its limit and forgets the least recently used key first', () => {
    const m = new LruMap<string, number>(3);
    for (let i = 0; i < 1000; i++) m.set(`k${i}`, i);
    expect(m.size).toBe(3);
    expect(m.get('k997')).toBe(997);
    m.set('new', 1); // k998 is now the least recently used
    expect(m.get('k998')).toBeUndefined();
    expect(m.get('k997')).toBe(997);
    expect(m.get('k999')).toBe(999);
  });
});

describe('addressKey', () => {
  it('counts IPv4 per address, also when mapped into IPv6', () => {
    expect(addressKey('192.168.1.20')).toBe('192.168.1.20');
    expect(addressKey('::ffff:192.168.1.20')).toBe('192.168.1.20');
  });

  it('counts IPv6 per /64, so a host cannot dodge a block by picking a new address', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:0:0:0:5%eth0')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
  });
});

describe('FailureThrottle', () => {
  const tuning = { freeFailures: 3, baseBlockMs: 1000, maxBlockMs: 8000, forgetAfterMs: 60_000, maxAddresses: 100 };

  it('allows a few failures, then blocks for a time that doubles up to the maximum', () => {
    const t = new FailureThrottle(tuning);
    expect([t.failure('a', 0), t.failure('a', 0)]).toEqual([0, 0]);
    expect(t.blockedFor('a', 0)).toBe(0);
    // The third wrong token (freeFailures: 3) starts the block.
    expect(t.failure('a', 0)).toBe(1000);
    expect(t.blockedFor('a', 0)).toBe(1000);
    const blocks = [1, 2, 3, 4, 5].map(() => t.failure('a', 0));
    expect(blocks).toEqual([2000, 4000, 8000, 8000, 8000]);
    expect(t.blockedFor('a', 7000)).toBe(1000);
    expect(t.blockedFor('a', 8000)).toBe(0);
    expect(t.blockedFor('b', 0)).toBe(0);
  });

  it('forgets an address after a quiet spell, and on success', () => {
    const t = new FailureThrottle(tuning);
    for (let i = 0; i < 4; i++) t.failure('a', 0);
    expect(t.failure('a', 120_000)).toBe(0); // a fresh start: the first failure is free again
    for (let i = 0; i < 4; i++) t.failure('b', 0);
    t.success('b');
    expect(t.blockedFor('b', 0)).toBe(0);
  });

  it('remembers a bounded number of addresses', () => {
    const t = new FailureThrottle({ ...tuning, maxAddresses: 50 });
    for (let i = 0; i < 10_000; i++) t.failure(`10.0.${i >> 8}.${i & 255}`, i);
    expect(t.size).toBe(50);
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then the rate, and says how long to wait', () => {
    const r = new RateLimiter({ ratePerSecond: 2, burst: 4 });
    expect([0, 1, 2, 3].map(() => r.take('a', 0))).toEqual([0, 0, 0, 0]);
    expect(r.take('a', 0)).toBe(500);
    expect(r.take('a', 500)).toBe(0);
    expect(r.take('a', 500)).toBe(500);
    expect(r.take('b', 500)).toBe(0);
    expect(r.take('a', 10_000)).toBe(0);
  });

  it('keeps a bounded number of addresses', () => {
    const r = new RateLimiter({ ratePerSecond: 1, burst: 1, maxAddresses: 20 });
    for (let i = 0; i < 5000; i++) r.take(`a${i}`, 0);
    expect(r.size).toBe(20);
  });
});

describe('AccessControl', () => {
  const peer = { address: '192.0.2.7', port: 40000 };

  it('lets everyone in when no token is set', () => {
    const a = new AccessControl(null, memoryLogger().logger);
    expect(a.required).toBe(false);
    expect(a.check(peer, [], 'v2')).toEqual({ ok: true });
  });

  it('tells a missing token from a wrong one, and accepts the right one among several candidates', () => {
    const a = new AccessControl('correct-horse-battery', memoryLogger().logger);
    expect(a.check(peer, [], 'http')).toMatchObject({ ok: false, reason: 'missing' });
    expect(a.check(peer, ['correct-horse-batter'], 'http')).toMatchObject({ ok: false, reason: 'wrong' });
    expect(a.check(peer, ['correct-horse-battery!'], 'http')).toMatchObject({ ok: false, reason: 'wrong' });
    expect(a.check(peer, ['nope', 'correct-horse-battery'], 'http')).toEqual({ ok: true });
    // Lengths differ: the comparison is over digests, so it neither throws nor short-cuts.
    expect(a.matches('')).toBe(false);
    expect(a.matches('x'.repeat(10_000))).toBe(false);
  });

  it('logs refusals with the peer address, and never the token', () => {
    const log = memoryLogger();
    const a = new AccessControl('s3cret-token-value', log.logger);
    a.check(peer, ['guess-one'], 'v2');
    const line = log.lines.find((l) => l.msg === 'access refused: wrong token');
    expect(line).toMatchObject({ peer: '192.0.2.7:40000', via: 'v2', level: 40 });
    expect(JSON.stringify(log.lines)).not.toContain('guess-one');
    expect(JSON.stringify(log.lines)).not.toContain('s3cret-token-value');
  });

  it('blocks an address after repeated wrong tokens, even for the right token, until the block ends', () => {
    let now = 1_000_000;
    const a = new AccessControl('right-token-123', memoryLogger().logger, { freeFailures: 2, baseBlockMs: 5000 }, () => now);
    a.check(peer, ['w1'], 'v2');
    // The second wrong token is still answered as such, and starts the block.
    expect(a.check(peer, ['w2'], 'v2')).toMatchObject({ ok: false, reason: 'wrong' });
    const blocked = a.check(peer, ['right-token-123'], 'v2');
    expect(blocked).toMatchObject({ ok: false, reason: 'throttled', retryAfterMs: 5000 });
    expect(!blocked.ok && blocked.message).toBe('too many wrong tokens from 192.0.2.7; try again in 5 s');
    // Another address is not affected.
    expect(a.check({ address: '192.0.2.8' }, ['right-token-123'], 'v2')).toEqual({ ok: true });
    now += 5000;
    expect(a.check(peer, ['right-token-123'], 'v2')).toEqual({ ok: true });
    // Success starts the address over.
    expect(a.check(peer, ['w4'], 'v2')).toMatchObject({ reason: 'wrong' });
    expect(a.check(peer, ['w5'], 'v2')).toMatchObject({ reason: 'wrong' });
  });
});

describe('HTTP credentials', () => {
  it('reads Bearer, Basic with any user name, and ?token=', () => {
    expect(tokenFromAuthorization('Bearer abc.DEF-123')).toBe('abc.DEF-123');
    expect(tokenFromAuthorization('bearer  abc ')).toBe('abc');
    expect(tokenFromAuthorization(basic('viewer:tok:with:colons'))).toBe('tok:with:colons');
    expect(tokenFromAuthorization(basic(':only-password'))).toBe('only-password');
    expect(tokenFromAuthorization(basic('no-colon'))).toBe('no-colon');
    expect(tokenFromAuthorization(basic('user:'))).toBeUndefined();
    expect(tokenFromAuthorization('Digest username="x"')).toBeUndefined();
    expect(tokenFromAuthorization('Basic !!!')).toBeUndefined();
    expect(tokenFromAuthorization('Bearer')).toBeUndefined();
    expect(presentedTokens('Bearer h', new URLSearchParams('token=q&fps=2'))).toEqual(['h', 'q']);
    expect(presentedTokens(undefined, new URLSearchParams('token='))).toEqual([]);
  });

  it('keeps tokens out of logged URLs', () => {
    expect(redactUrl('/stream.mjpg?fps=5&token=abc&x=1')).toBe('/stream.mjpg?fps=5&token=REDACTED&x=1');
    expect(redactUrl('/?TOKEN=abc')).toBe('/?TOKEN=REDACTED');
    expect(redactUrl('/status')).toBe('/status');
  });
});

// The gateway's --source forms, tcp:// and edgecam(s)://: what parses, what is refused, the one
// form each is written back in, and the token masked wherever a source is shown (logs, /status,
// config check), whose output is refused where it holds the mask when read back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseCommandLine } from '../src/config/config.js';
import { formatSourceSpec, parseSourceSpec, sourceSpecText } from '../src/sources/source-spec.js';
import { refusal } from './support/config.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-gateway-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PIN = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const device = (over: Record<string, unknown>) => ({ kind: 'edgecam', tls: false, host: 'dev', port: null, camera: null, token: null, fingerprint: null, ...over });

describe('tcp:// and edgecam:// sources', () => {
  it.each([
    ['tcp://192.168.1.20:6810', { kind: 'tcp', host: '192.168.1.20', port: 6810 }],
    ['tcp://Module-1.LAN', { kind: 'tcp', host: 'module-1.lan', port: null }],
    ['tcp://[fe80::1]:6810/', { kind: 'tcp', host: 'fe80::1', port: 6810 }],
    ['edgecam://dev', device({})],
    ['edgecam://dev:6811/front', device({ port: 6811, camera: 'front' })],
    ['edgecams://dev/front?token=a%26b+c&fingerprint=' + PIN.toLowerCase().replaceAll(':', ''), device({ tls: true, camera: 'front', token: 'a&b+c', fingerprint: PIN })],
    ['edgecams://[::1]:7000?fingerprint=' + PIN, device({ tls: true, host: '::1', port: 7000, fingerprint: PIN })],
  ])('parses %s', (text, spec) => {
    expect(parseSourceSpec(text)).toEqual(spec);
  });

  it.each([
    ['tcp://module/stream', 'a path'],
    ['tcp://u:p@module', 'credentials'],
    ['tcp://module?x=1', 'a query'],
    ['tcp://module#fast', 'a fragment'],
    ['tcp://module:0', 'port 0'],
    ['tcp://', 'no host'],
    ['tcp://mod_ule', 'a host that is no name'],
    ['edgecam://dev/front/back', 'two path segments'],
    ['edgecam://dev?camera=front', 'an unknown parameter'],
    ['edgecam://dev?token=', 'an empty token'],
    ['edgecam://dev?token=a&token=b', 'two tokens'],
    ['edgecam://dev?token=%zz', 'a token that is not percent-encoded'],
    ['edgecams://dev?fingerprint=ABCD', 'a short fingerprint'],
    [`edgecam://dev?fingerprint=${PIN}`, 'a fingerprint without TLS'],
  ])('refuses %s (%s)', (text) => {
    expect(parseSourceSpec(text)).toBeUndefined();
  });

  it.each(['tcp://module.lan:6810', 'tcp://[::1]', 'edgecam://dev', `edgecams://dev:6810/front?token=a%26b%2Bc&fingerprint=${PIN}`])('writes %s back in a form that parses to the same spec', (text) => {
    const spec = parseSourceSpec(text)!;
    expect(sourceSpecText(spec)).toBe(text);
    expect(parseSourceSpec(sourceSpecText(spec))).toEqual(spec);
  });

  it('masks the token where a source is shown, and keeps the pin', () => {
    expect(formatSourceSpec(parseSourceSpec(`edgecams://dev/front?token=s3cret-token&fingerprint=${PIN}`)!)).toBe(`edgecams://dev/front?token=***&fingerprint=${PIN}`);
    expect(formatSourceSpec(parseSourceSpec('tcp://module:6810')!)).toBe('tcp://module:6810');
  });

  it('lists the new forms when a source is refused', () => {
    expect(refusal(['--source', 'tcp://module/x'])).toMatch(
      /^--source: expected .*, tcp:\/\/HOST\[:PORT\] \(the seed's camera server\) or edgecam\(s\):\/\/HOST\[:PORT\]\[\/CAMERA\] \(another edgecam-server\), got "tcp:\/\/module\/x"$/,
    );
  });
});

describe('config check with gateway sources', () => {
  const file = join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    ['cameras:', '  door:', '    source: tcp://192.168.1.21', '  yard:', `    source: edgecams://yard.lan/front?token=yard-token-123456&fingerprint=${PIN}`, ''].join('\n'),
  );

  it('prints each camera’s source, the token masked', () => {
    const r = parseCommandLine(['config', 'check', '--config', file], {});
    if (!('output' in r)) throw new Error('expected output');
    expect(r.exitCode).toBe(0);
    expect(r.output).not.toContain('yard-token-123456');
    const cameras = (parse(r.output) as { cameras: Record<string, { source: string }> }).cameras;
    expect(cameras.door!.source).toBe('tcp://192.168.1.21');
    expect(cameras.yard!.source).toBe(`edgecams://yard.lan/front?token=***&fingerprint=${PIN}`);
  });

  it('refuses its own output where the token is masked, until the token is written back', () => {
    const r = parseCommandLine(['config', 'check', '--config', file], {});
    if (!('output' in r)) throw new Error('expected output');
    const again = join(dir, 'again.yaml');
    writeFileSync(again, r.output);
    expect(refusal(['--config', again])).toMatch(/cameras\.yard\.source: ".*token=\*\*\*.*" holds \*\*\*, which config check prints in place of a secret; write the secret itself/);
  });
});

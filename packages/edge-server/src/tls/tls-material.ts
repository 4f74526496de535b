// The key and certificate the TCP and HTTP servers present: from --tls-cert/--tls-key, or made
// once by --tls-self-signed and kept in --tls-dir, so the fingerprint clients pin stays the same
// across restarts. Node cannot make certificates itself; the `selfsigned` package does.
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeSystemError } from '@edgecam/runtime';
import { ConfigError } from '../config/config.js';

/** The TLS flags of the configuration. */
export interface TlsSettings {
  tlsCert: string | null;
  tlsKey: string | null;
  tlsSelfSigned: boolean;
  tlsDir: string;
}

/** The key and certificate served, and how they were obtained. */
export interface TlsMaterial {
  key: string;
  cert: string;
  /** SHA-256 of the (first) certificate, `AB:CD:…`, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
  /** files: --tls-cert/--tls-key; created/reused: the self-signed pair in --tls-dir. */
  origin: 'files' | 'created' | 'reused';
  certPath: string;
  keyPath: string;
  notAfter: Date;
}

/** File names of the self-signed pair in --tls-dir. */
export const SELF_SIGNED_KEY_FILE = 'edgecam-key.pem';
export const SELF_SIGNED_CERT_FILE = 'edgecam-cert.pem';
/** Long, because clients pin the fingerprint: a new certificate means re-pinning every client. */
const SELF_SIGNED_DAYS = 3650;
const EXPIRY_WARNING_DAYS = 30;

/** Loads or makes the key and certificate; null without TLS. */
export async function loadTlsMaterial(s: TlsSettings, logger: Logger): Promise<TlsMaterial | null> {
  let material: TlsMaterial;
  if (s.tlsCert !== null && s.tlsKey !== null) {
    const cert = await readPem(s.tlsCert, '--tls-cert');
    const key = await readPem(s.tlsKey, '--tls-key');
    material = describe(key, cert, 'files', s.tlsCert, s.tlsKey, '--tls-cert and --tls-key');
  } else if (s.tlsSelfSigned) {
    material = await selfSigned(s.tlsDir, logger);
  } else {
    return null;
  }
  const daysLeft = (material.notAfter.getTime() - Date.now()) / 86_400_000;
  if (daysLeft < 0) {
    logger.error({ cert: material.certPath, notAfter: material.notAfter.toISOString() }, 'the TLS certificate has expired: clients that check it will refuse to connect');
  } else if (daysLeft < EXPIRY_WARNING_DAYS) {
    logger.warn({ cert: material.certPath, notAfter: material.notAfter.toISOString() }, `the TLS certificate expires in ${Math.floor(daysLeft)} days`);
  }
  return material;
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${flag}: cannot read ${path}: ${describeSystemError(err)}`);
  }
}

/** Checks that key and certificate are PEM and belong together, and reads the certificate. */
function describe(
  key: string,
  cert: string,
  origin: TlsMaterial['origin'],
  certPath: string,
  keyPath: string,
  what: string,
): TlsMaterial {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError(`${what}: ${certPath} is not a PEM certificate (${describeSystemError(err)})`);
  }
  try {
    // Fails on a key that is not PEM, and on a key that does not belong to the certificate.
    createSecureContext({ key, cert });
  } catch (err) {
    throw new ConfigError(`${what}: ${keyPath} is not the private key of ${certPath} (${describeSystemError(err)})`);
  }
  return { key, cert, fingerprint256: x509.fingerprint256, origin, certPath, keyPath, notAfter: new Date(x509.validTo) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ConfigError(`--tls-dir: cannot look at ${path}: ${describeSystemError(err)}`);
  }
}

async function selfSigned(dir: string, logger: Logger): Promise<TlsMaterial> {
  const keyPath = join(dir, SELF_SIGNED_KEY_FILE);
  const certPath = join(dir, SELF_SIGNED_CERT_FILE);
  const [haveKey, haveCert] = await Promise.all([exists(keyPath), exists(certPath)]);
  if (haveKey && haveCert) {
    const [key, cert] = await Promise.all([readPem(keyPath, '--tls-dir'), readPem(certPath, '--tls-dir')]);
    return describe(key, cert, 'reused', certPath, keyPath, '--tls-self-signed');
  }
  if (haveKey !== haveCert) {
    const [present, missing] = haveKey ? [keyPath, certPath] : [certPath, keyPath];
    // Never overwrite half of a pair: it may be a key someone still needs.
    throw new ConfigError(
      `--tls-self-signed: ${present} exists but ${missing} does not; restore it, or delete ${present} to make a new pair`,
    );
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`--tls-dir: cannot create ${dir}: ${describeSystemError(err)}`);
  }
  const names = subjectNames();
  const now = new Date();
  // Loaded only when a certificate is made: selfsigned pulls in a whole X.509 and ASN.1 library.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: names.cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + SELF_SIGNED_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.dns.map((value) => ({ type: 2 as const, value })), ...names.ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  // Key first, then the certificate: a start that finds both knows the pair is complete.
  await writeNew(keyPath, pems.private, 0o600);
  await writeNew(certPath, pems.cert, 0o644);
  logger.info({ cert: certPath, key: keyPath, names: [...names.dns, ...names.ips] }, 'made a self-signed TLS certificate');
  return describe(pems.private, pems.cert, 'created', certPath, keyPath, '--tls-self-signed');
}

/** Writes through a temporary name and renames, refusing to replace a file that appeared meanwhile. */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (await exists(path)) throw Object.assign(new Error('file exists'), { code: 'EEXIST' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new ConfigError(`--tls-dir: cannot write ${path}: ${describeSystemError(err)}`);
  }
}

/** The names a client may use to reach this device: its host name, localhost, and its addresses now. */
function subjectNames(): { cn: string; dns: string[]; ips: string[] } {
  const host = hostname().toLowerCase();
  const validHost = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host) ? host : null;
  const dns = new Set<string>(['localhost']);
  if (validHost) {
    dns.add(validHost);
    if (!validHost.includes('.')) dns.add(`${validHost}.local`);
  }
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && !a.address.startsWith('fe80:')) ips.add(a.address);
  }
  return { cn: validHost ?? 'edgecam', dns: [...dns], ips: [...ips] };
}

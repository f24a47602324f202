/**
 * The self-signed certificate a TLS listener uses when the config gives no certificate files: made on
 * first start, kept in `<dataDir>/tls/`, reused on later starts so that clients that trusted it once
 * keep trusting it.
 */
import { generateKeyPair, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

/** A PEM certificate and its PEM private key. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
}

/** File names inside `<dataDir>/tls/`. */
export const SELF_SIGNED_CERT_FILE = 'self-signed-cert.pem';
export const SELF_SIGNED_KEY_FILE = 'self-signed-key.pem';

const DAY = 86_400_000;
const VALIDITY_DAYS = 365;
/** Renewed this long before it expires, so a gateway started on a nearly expired one runs for weeks. */
const RENEW_BEFORE_DAYS = 30;

/** What a certificate for `names` must cover: always localhost and the loopback addresses. */
export function subjectAltNames(names: readonly string[]): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost']);
  const ips = new Set(['127.0.0.1', '::1']);
  for (const name of names) {
    if (isIP(name)) ips.add(name);
    else dns.add(name.toLowerCase());
  }
  return { dns: [...dns], ips: [...ips] };
}

// Two listeners of one gateway ask at once; they share one answer instead of racing each other.
const inFlight = new Map<string, Promise<TlsCredentials>>();

/**
 * Returns the self-signed certificate kept in `dir`, making (or remaking) it when it is missing,
 * unreadable, expiring within 30 days, not matching its key, or not covering `names`.
 *
 * Lock-free for several processes (cluster workers, two gateways) starting at once: each writes to a
 * temporary file and renames it into place, so a reader sees a whole file or none. Should two writers
 * interleave and leave a cert and key that don't match, each still serves its own consistent pair, and
 * the mismatch is detected and repaired on the next start.
 * @throws the fs error when `dir` cannot be created or written.
 */
export function ensureSelfSignedCertificate(dir: string, names: readonly string[], onMake?: () => void): Promise<TlsCredentials> {
  const id = `${path.resolve(dir)}\0${[...names].sort().join('\0')}`;
  let pending = inFlight.get(id);
  if (!pending) {
    pending = ensure(path.resolve(dir), names, onMake).finally(() => inFlight.delete(id));
    inFlight.set(id, pending);
  }
  return pending;
}

async function ensure(dir: string, names: readonly string[], onMake: (() => void) | undefined): Promise<TlsCredentials> {
  const certFile = path.join(dir, SELF_SIGNED_CERT_FILE);
  const keyFile = path.join(dir, SELF_SIGNED_KEY_FILE);
  const existing = await readPair(certFile, keyFile);
  if (existing && isUsable(existing, names)) return existing;

  onMake?.();
  const made = await createSelfSignedCertificate(names);
  // 0700: the folder holds a private key.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await replaceFile(keyFile, made.key, 0o600);
  await replaceFile(certFile, made.cert, 0o644);
  // Another process may have renamed its pair in meanwhile; converge on what is on disk when it is whole.
  const onDisk = await readPair(certFile, keyFile);
  return onDisk && isUsable(onDisk, names) ? onDisk : made;
}

async function readPair(certFile: string, keyFile: string): Promise<TlsCredentials | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { cert, key };
  } catch {
    return undefined; // missing or unreadable: made again
  }
}

/** Whether a kept certificate can serve now: parses, matches its key, valid long enough, covers `names`. */
export function isUsable(pair: TlsCredentials, names: readonly string[], now = Date.now()): boolean {
  try {
    const cert = new X509Certificate(pair.cert);
    if (!cert.checkPrivateKey(createPrivateKey(pair.key))) return false;
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) - now < RENEW_BEFORE_DAYS * DAY) return false;
    const { dns, ips } = subjectAltNames(names);
    const present = new Set((cert.subjectAltName ?? '').split(', ').map((entry) => entry.toLowerCase()));
    // checkIP compares addresses as bytes, so "::1" matches however the SAN spells it.
    return dns.every((name) => present.has(`dns:${name}`)) && ips.every((ip) => cert.checkIP(ip) !== undefined);
  } catch {
    return false;
  }
}

/**
 * Makes a certificate for `names`: CN `wsgate`, valid for a year, SANs from {@link subjectAltNames}.
 * The RSA key comes from node:crypto (native and fast); node-forge only builds and signs the certificate.
 */
export async function createSelfSignedCertificate(names: readonly string[], now = Date.now()): Promise<TlsCredentials> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  // Loaded only when a certificate is made: a running gateway need not keep node-forge in its heap.
  const { default: forge } = await import('node-forge');
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a serial number must be positive
  cert.serialNumber = serial.toString('hex');
  // Backdated a little: a client whose clock is behind would otherwise see "not yet valid".
  cert.validity.notBefore = new Date(now - 3_600_000);
  cert.validity.notAfter = new Date(now + VALIDITY_DAYS * DAY);
  const subject = [{ name: 'commonName', value: 'wsgate' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const { dns, ips } = subjectAltNames(names);
  cert.setExtensions([
    // Not a CA: browsers refuse a CA certificate used as a server's own.
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: privateKey };
}

/** Atomic replace: write a temporary file beside the target, then rename it over the target. */
async function replaceFile(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode, flag: 'wx' });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

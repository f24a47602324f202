/**
 * The certificates a TLS listener serves: its default one (the configured PEM files, or the self-signed
 * certificate kept in `dataDir`) and its per-host ones (`tls.sni`). Every file is checked now, so that a
 * wrong one is a start-up (or reload) error naming the field, not an OpenSSL message at the first handshake.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatPath } from '../../config/issues.js';
import type { CertificateFiles, GatewayConfig, ListenerConfig } from '../../config/types.js';
import { WsgateError } from '../../errors.js';
import type { Logger } from '../../observe/logger.js';
import { ensureSelfSignedCertificate, type TlsCredentials } from './self-signed.js';

export type { TlsCredentials } from './self-signed.js';

const SELF_SIGNED_HINT = 'or remove cert and key to use a self-signed certificate';
const SNI_HINT = 'or remove this entry';

/** What a TLS listener serves: its default certificate, and the per-host ones chosen by SNI. */
export interface ListenerCredentials extends TlsCredentials {
  /** By lower-case host name or `*.domain`, in config order; empty without `tls.sni`. */
  readonly sni: ReadonlyMap<string, TlsCredentials>;
  /**
   * The session-ticket keys (48 bytes) to encrypt TLS session tickets with: the same in every worker of a
   * cluster, so that a browser resuming its session may land on any of them. Absent: node's, random per server.
   */
  readonly ticketKeys?: Buffer;
}

/**
 * Returns the PEM certificates and keys for a TLS listener of `config`: the default pair and each `tls.sni` pair.
 * @throws {WsgateError} `WSGATE_TLS_FILE` naming the field (`listeners[1].tls.cert`,
 *   `listeners[1].tls.sni["meet.example.com"].key`), the file and the fix, when a file is missing, unreadable,
 *   not PEM, encrypted, or the key does not match the certificate; or when the self-signed certificate cannot
 *   be written to `dataDir`.
 */
export async function resolveTlsCredentials(listener: ListenerConfig, config: GatewayConfig, logger?: Logger): Promise<ListenerCredentials> {
  const field = `${fieldOf(listener, config)}.tls`;
  const tls = listener.tls;
  if (!tls) throw new WsgateError('WSGATE_API_MISUSE', `${field}: the listener has no tls: call resolveTlsCredentials() only for TLS listeners`);
  let own: TlsCredentials;
  if (tls.cert === undefined && tls.key === undefined) {
    own = await selfSigned(field, config, logger);
  } else if (tls.cert === undefined || tls.key === undefined) {
    throw new WsgateError('WSGATE_TLS_FILE', `${field}: only one of cert and key is given: give both, or neither to use a self-signed certificate`);
  } else {
    own = await readPair(field, { cert: tls.cert, key: tls.key }, SELF_SIGNED_HINT);
  }
  const sni = new Map<string, TlsCredentials>();
  // One after another: the first bad entry in config order is the one reported.
  for (const [name, files] of Object.entries(tls.sni ?? {})) {
    sni.set(name, await readPair(`${field}.${formatPath(['sni', name])}`, files, SNI_HINT));
  }
  return { ...own, sni };
}

/** Reads a certificate and its key, and checks that both are PEM, usable, and belong together. */
async function readPair(field: string, files: CertificateFiles, hint: string): Promise<TlsCredentials> {
  // Settled in order, so that with both files missing the error is always about cert.
  const [certRead, keyRead] = await Promise.allSettled([
    readPem(`${field}.cert`, files.cert, `give the path of a PEM certificate, ${hint}`),
    readPem(`${field}.key`, files.key, `give the path of the certificate's PEM private key, ${hint}`),
  ]);
  if (certRead.status === 'rejected') throw certRead.reason;
  if (keyRead.status === 'rejected') throw keyRead.reason;
  const [cert, key] = [certRead.value, keyRead.value];
  checkCertificate(`${field}.cert`, files.cert, cert);
  checkKey(`${field}.key`, files.key, key);

  let matches = false;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch {
    // Unparsable files were reported above; anything else here means "does not match".
  }
  if (!matches) {
    throw new WsgateError('WSGATE_TLS_FILE', `${field}.key: ${files.key} is not the private key of ${files.cert}: give the key the certificate was issued for`);
  }
  return { cert, key };
}

async function selfSigned(field: string, config: GatewayConfig, logger: Logger | undefined): Promise<TlsCredentials> {
  const dir = path.join(config.dataDir, 'tls');
  try {
    // Said, because making the key takes a moment, and a first start is where an operator watches.
    return await ensureSelfSignedCertificate(dir, config.names, () => logger?.info({ field, dir }, 'generating a self-signed certificate'));
  } catch (error) {
    throw new WsgateError(
      'WSGATE_TLS_FILE',
      `${field}: cannot keep a self-signed certificate in ${dir} (${errorCode(error)}): make dataDir writable, or give tls.cert and tls.key`,
      { cause: error },
    );
  }
}

async function readPem(field: string, file: string, fix: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new WsgateError('WSGATE_TLS_FILE', `${field}: cannot read ${file} (${errorCode(error)}): ${fix}`, {
      cause: error,
    });
  }
}

function checkCertificate(field: string, file: string, pem: string): void {
  const fail = (what: string, fix: string) => new WsgateError('WSGATE_TLS_FILE', `${field}: ${file} ${what}: ${fix}`);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw fail('holds a private key, not a certificate', 'are cert and key swapped?');
    throw fail(
      'is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)',
      'give a PEM file; convert a DER one with "openssl x509 -inform der -in FILE -out cert.pem"',
    );
  }
  try {
    new X509Certificate(pem);
  } catch (error) {
    throw fail(`cannot be parsed as a certificate (${firstLine(error)})`, 'give a valid PEM certificate');
  }
}

function checkKey(field: string, file: string, pem: string): void {
  const fail = (what: string, fix: string) => new WsgateError('WSGATE_TLS_FILE', `${field}: ${file} ${what}: ${fix}`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    if (pem.includes('-----BEGIN CERTIFICATE-----')) throw fail('holds a certificate, not a private key', 'are cert and key swapped?');
    throw fail(
      'is not a PEM private key (no "-----BEGIN PRIVATE KEY-----" line)',
      'give a PEM file; convert a DER one with "openssl pkey -inform der -in FILE -out key.pem"',
    );
  }
  if (pem.includes('ENCRYPTED')) {
    throw fail('is encrypted and wsgate has no passphrase setting', 'decrypt it with "openssl pkey -in FILE -out key.pem" and keep it readable by wsgate only');
  }
  try {
    createPrivateKey(pem);
  } catch (error) {
    throw fail(`cannot be parsed as a private key (${firstLine(error)})`, 'give a valid PEM private key');
  }
}

/** `listeners[1]`: the path operators know from their config file. */
function fieldOf(listener: ListenerConfig, config: GatewayConfig): string {
  let index = config.listeners.indexOf(listener);
  if (index < 0) index = config.listeners.findIndex((l) => l.name === listener.name);
  return index < 0 ? `listener "${listener.name}"` : `listeners[${index}]`;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? code : firstLine(error);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n', 1)[0]!;
}

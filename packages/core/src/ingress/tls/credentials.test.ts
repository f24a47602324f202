import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/load.js';
import type { GatewayConfig } from '../../config/types.js';
import { WsgateError } from '../../errors.js';
import { resolveTlsCredentials } from './credentials.js';
import { createSelfSignedCertificate, SELF_SIGNED_CERT_FILE, type TlsCredentials } from './self-signed.js';

let dir: string;
let pair: TlsCredentials;
let other: TlsCredentials;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wsgate-credentials-'));
  [pair, other] = await Promise.all([createSelfSignedCertificate([]), createSelfSignedCertificate([])]);
  const encrypted = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' },
  }).privateKey;
  await Promise.all([
    writeFile(file('cert.pem'), pair.cert),
    writeFile(file('key.pem'), pair.key),
    writeFile(file('other-key.pem'), other.key),
    writeFile(file('other-cert.pem'), other.cert),
    writeFile(file('encrypted-key.pem'), encrypted),
    writeFile(file('cert.der'), Buffer.from([0x30, 0x82, 0x01, 0x00])),
    writeFile(file('broken.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n'),
  ]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A config whose listeners[1] has the given tls; relative paths are in the test folder. */
const configWith = (tls: unknown, extra: Record<string, unknown> = {}): GatewayConfig =>
  resolveConfig({ listeners: [{ port: 0 }, { port: 0, tls }], ...extra }, dir);

async function refusal(config: GatewayConfig): Promise<WsgateError> {
  const error = await resolveTlsCredentials(config.listeners[1]!, config).then(
    () => expect.fail('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WsgateError);
  expect((error as WsgateError).code).toBe('WSGATE_TLS_FILE');
  return error as WsgateError;
}

describe('resolveTlsCredentials', () => {
  it('reads the configured certificate and key', async () => {
    const config = configWith({ cert: 'cert.pem', key: 'key.pem' });
    expect(await resolveTlsCredentials(config.listeners[1]!, config)).toEqual({ ...pair, sni: new Map() });
  });

  it('reads each tls.sni pair, keyed by its lower-case name, beside the default', async () => {
    const config = configWith({
      cert: 'cert.pem',
      key: 'key.pem',
      sni: { 'Meet.Example.com': { cert: 'other-cert.pem', key: 'other-key.pem' }, '*.example.org': { cert: 'cert.pem', key: 'key.pem' } },
    });
    const resolved = await resolveTlsCredentials(config.listeners[1]!, config);
    expect(resolved).toMatchObject(pair);
    expect([...resolved.sni]).toEqual([
      ['meet.example.com', other],
      ['*.example.org', pair],
    ]);
  });

  it('serves tls.sni beside a self-signed default', async () => {
    const config = configWith({ sni: { 'meet.example.com': { cert: 'other-cert.pem', key: 'other-key.pem' } } }, { dataDir: 'data-sni' });
    const resolved = await resolveTlsCredentials(config.listeners[1]!, config);
    expect(resolved.cert).toContain('-----BEGIN CERTIFICATE-----');
    expect(resolved.sni.get('meet.example.com')).toEqual(other);
  });

  it('checks a tls.sni pair as it checks the default one, naming the entry', async () => {
    const sni = (entry: Record<string, string>) => configWith({ cert: 'cert.pem', key: 'key.pem', sni: { 'meet.example.com': entry } });
    expect((await refusal(sni({ cert: 'cert.pem', key: 'other-key.pem' }))).message).toBe(
      `listeners[1].tls.sni["meet.example.com"].key: ${file('other-key.pem')} is not the private key of ${file('cert.pem')}: give the key the certificate was issued for`,
    );
    expect((await refusal(sni({ cert: 'nope.pem', key: 'key.pem' }))).message).toBe(
      `listeners[1].tls.sni["meet.example.com"].cert: cannot read ${file('nope.pem')} (ENOENT): give the path of a PEM certificate, or remove this entry`,
    );
    expect((await refusal(sni({ cert: 'key.pem', key: 'cert.pem' }))).message).toMatch(
      /^listeners\[1\]\.tls\.sni\["meet\.example\.com"\]\.cert: .*key\.pem holds a private key, not a certificate: are cert and key swapped\?$/,
    );
    expect((await refusal(sni({ cert: 'cert.pem', key: 'encrypted-key.pem' }))).message).toMatch(/^listeners\[1\]\.tls\.sni\["meet\.example\.com"\]\.key: .* is encrypted/);
  });

  it('names the field, the file and the fix when a file is missing', async () => {
    const missingCert = await refusal(configWith({ cert: 'nope.pem', key: 'key.pem' }));
    expect(missingCert.message).toBe(
      `listeners[1].tls.cert: cannot read ${file('nope.pem')} (ENOENT): give the path of a PEM certificate, or remove cert and key to use a self-signed certificate`,
    );
    const missingKey = await refusal(configWith({ cert: 'cert.pem', key: 'nope.pem' }));
    expect(missingKey.message).toBe(
      `listeners[1].tls.key: cannot read ${file('nope.pem')} (ENOENT): give the path of the certificate's PEM private key, or remove cert and key to use a self-signed certificate`,
    );
  });

  it('says when a file is not PEM', async () => {
    const der = await refusal(configWith({ cert: 'cert.der', key: 'key.pem' }));
    expect(der.message).toMatch(/^listeners\[1\]\.tls\.cert: .*cert\.der is not a PEM certificate .*: give a PEM file; convert a DER one with/);
    const key = await refusal(configWith({ cert: 'cert.pem', key: 'cert.der' }));
    expect(key.message).toMatch(/^listeners\[1\]\.tls\.key: .*cert\.der is not a PEM private key/);
    const broken = await refusal(configWith({ cert: 'broken.pem', key: 'key.pem' }));
    expect(broken.message).toMatch(/broken\.pem cannot be parsed as a certificate \(.+\): give a valid PEM certificate$/);
  });

  it('notices swapped files, an encrypted key, and a key of another certificate', async () => {
    expect((await refusal(configWith({ cert: 'key.pem', key: 'cert.pem' }))).message).toMatch(
      /^listeners\[1\]\.tls\.cert: .*key\.pem holds a private key, not a certificate: are cert and key swapped\?$/,
    );
    expect((await refusal(configWith({ cert: 'cert.pem', key: 'encrypted-key.pem' }))).message).toContain(
      'encrypted-key.pem is encrypted and wsgate has no passphrase setting: decrypt it with',
    );
    expect((await refusal(configWith({ cert: 'cert.pem', key: 'other-key.pem' }))).message).toBe(
      `listeners[1].tls.key: ${file('other-key.pem')} is not the private key of ${file('cert.pem')}: give the key the certificate was issued for`,
    );
  });

  it('makes and keeps a self-signed certificate in <dataDir>/tls when no files are given', async () => {
    const config = configWith(true, { dataDir: 'data', names: ['gw.example.com'] });
    const made = await resolveTlsCredentials(config.listeners[1]!, config);
    const again = await resolveTlsCredentials(config.listeners[1]!, config);
    expect(again).toEqual(made);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(path.join(dir, 'data', 'tls', SELF_SIGNED_CERT_FILE), 'utf8')).toBe(made.cert);
  });

  it('says how to fix a dataDir where the certificate cannot be kept', async () => {
    const error = await refusal(configWith({}, { dataDir: 'cert.pem/inside-a-file' }));
    expect(error.message).toBe(
      `listeners[1].tls: cannot keep a self-signed certificate in ${file('cert.pem/inside-a-file/tls')} (ENOTDIR): make dataDir writable, or give tls.cert and tls.key`,
    );
  });

  it('refuses only one of cert and key (a config built without resolveConfig)', async () => {
    const config = configWith({ cert: 'cert.pem', key: 'key.pem' });
    const listener = { ...config.listeners[1]!, tls: { cert: file('cert.pem') } };
    const error = await resolveTlsCredentials(listener, config).catch((e: WsgateError) => e);
    expect(error).toMatchObject({ code: 'WSGATE_TLS_FILE', message: expect.stringContaining('give both, or neither') });
  });
});

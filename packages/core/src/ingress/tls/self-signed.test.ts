import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSelfSignedCertificate,
  ensureSelfSignedCertificate,
  isUsable,
  SELF_SIGNED_CERT_FILE,
  SELF_SIGNED_KEY_FILE,
  type TlsCredentials,
} from './self-signed.js';

const DAY = 86_400_000;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wsgate-tls-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fingerprint = (pair: TlsCredentials) => new X509Certificate(pair.cert).fingerprint256;

describe('ensureSelfSignedCertificate', () => {
  it('makes the certificate once, keeps it in the folder (key mode 0600), and reuses it', async () => {
    const first = await ensureSelfSignedCertificate(dir, []);
    expect(await readFile(path.join(dir, SELF_SIGNED_CERT_FILE), 'utf8')).toBe(first.cert);
    expect(await readFile(path.join(dir, SELF_SIGNED_KEY_FILE), 'utf8')).toBe(first.key);
    expect((await stat(path.join(dir, SELF_SIGNED_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toHaveLength(2); // no temporary files left

    const second = await ensureSelfSignedCertificate(dir, []);
    expect(fingerprint(second)).toBe(fingerprint(first));
  });

  it('covers localhost, the loopback addresses and the configured names, as DNS or IP SANs', async () => {
    const pair = await ensureSelfSignedCertificate(dir, ['gw.example.com', '192.0.2.7', '2001:db8::1']);
    const cert = new X509Certificate(pair.cert);
    expect(cert.subject).toBe('CN=wsgate');
    expect(cert.issuer).toBe('CN=wsgate');
    const sans = cert.subjectAltName!.split(', ');
    expect(sans).toEqual(expect.arrayContaining(['DNS:localhost', 'DNS:gw.example.com', 'IP Address:127.0.0.1', 'IP Address:192.0.2.7']));
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkIP('2001:db8::1')).toBe('2001:db8::1');
    expect(cert.ca).toBe(false);
    const days = (Date.parse(cert.validTo) - Date.now()) / DAY;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
  });

  it('serves TLS that a client trusting the certificate accepts, by name and by IP', async () => {
    const pair = await ensureSelfSignedCertificate(dir, []);
    const server = tls.createServer({ cert: pair.cert, key: pair.key }, (socket) => socket.end('hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      for (const options of [{ servername: 'localhost' }, {}]) {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: pair.cert, ...options });
        await once(socket, 'secureConnect');
        expect(socket.authorized).toBe(true);
        const [data] = (await once(socket, 'data')) as [Buffer];
        expect(data.toString()).toBe('hello');
        socket.destroy();
      }
    } finally {
      server.close();
    }
  });

  it('makes a new one when the names are no longer covered', async () => {
    const first = await ensureSelfSignedCertificate(dir, ['a.example.com']);
    expect(fingerprint(await ensureSelfSignedCertificate(dir, ['A.example.com']))).toBe(fingerprint(first));
    const second = await ensureSelfSignedCertificate(dir, ['a.example.com', 'b.example.com']);
    expect(fingerprint(second)).not.toBe(fingerprint(first));
    expect(new X509Certificate(second.cert).subjectAltName).toContain('DNS:b.example.com');
  });

  it('makes a new one when the kept one expires within 30 days', async () => {
    const old = await createSelfSignedCertificate([], Date.now() - 340 * DAY);
    await writeFile(path.join(dir, SELF_SIGNED_CERT_FILE), old.cert);
    await writeFile(path.join(dir, SELF_SIGNED_KEY_FILE), old.key);
    const renewed = await ensureSelfSignedCertificate(dir, []);
    expect(fingerprint(renewed)).not.toBe(fingerprint(old));
    expect(await readFile(path.join(dir, SELF_SIGNED_CERT_FILE), 'utf8')).toBe(renewed.cert);
  });

  it('makes a new one when the kept files are damaged or do not match', async () => {
    const a = await createSelfSignedCertificate([]);
    const b = await createSelfSignedCertificate([]);
    await writeFile(path.join(dir, SELF_SIGNED_CERT_FILE), a.cert);
    await writeFile(path.join(dir, SELF_SIGNED_KEY_FILE), b.key);
    const repaired = await ensureSelfSignedCertificate(dir, []);
    expect([fingerprint(a), fingerprint(b)]).not.toContain(fingerprint(repaired));
    expect(isUsable(repaired, [])).toBe(true);

    await writeFile(path.join(dir, SELF_SIGNED_CERT_FILE), 'garbage');
    expect(fingerprint(await ensureSelfSignedCertificate(dir, []))).not.toBe(fingerprint(repaired));
  });

  it('gives concurrent callers in one process the same certificate', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => ensureSelfSignedCertificate(dir, ['x.example'])));
    expect(fingerprint(a!)).toBe(fingerprint(b!));
    expect(fingerprint(b!)).toBe(fingerprint(c!));
  });

  it('leaves a whole, matching pair when several processes start at once', async () => {
    // Each child imports this module's source through tsx and prints the fingerprint it will serve.
    const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const source = pathToFileURL(fileURLToPath(new URL('./self-signed.ts', import.meta.url))).href;
    const code = `const m = await import(${JSON.stringify(source)});
      const pair = await m.ensureSelfSignedCertificate(${JSON.stringify(dir)}, []);
      if (!m.isUsable(pair, [])) process.exit(2);
      console.log(new (await import('node:crypto')).X509Certificate(pair.cert).fingerprint256);`;
    const run = () => promisify(execFile)(process.execPath, ['--import', loader, '--input-type=module', '-e', code]);
    const results = await Promise.all([run(), run(), run(), run()]);
    for (const r of results) expect(r.stdout.trim()).toMatch(/^[0-9A-F:]{95}$/);
    const onDisk = {
      cert: await readFile(path.join(dir, SELF_SIGNED_CERT_FILE), 'utf8'),
      key: await readFile(path.join(dir, SELF_SIGNED_KEY_FILE), 'utf8'),
    };
    expect(isUsable(onDisk, [])).toBe(true);
    expect(await readdir(dir)).toHaveLength(2);
  });
});

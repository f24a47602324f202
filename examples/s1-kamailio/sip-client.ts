/**
 * A SIP user agent in miniature, to check an S1 gateway from the command line (docs/guides/s1-kamailio.md):
 *
 *   node examples/dist/s1-kamailio/sip-client.js ws://127.0.0.1:8080/ alice alice-secret [MD5]
 *
 * opens a `sip` WebSocket as a SIP UA does: the first attempt gets 401 with digest challenges, the second
 * answers one (RFC 7616, qop=auth; SHA-256 unless MD5 is asked for), then sends OPTIONS (RFC 7118) and prints
 * the SIP answer's status line. Exits 0 once answered, 1 on a refusal or after 5 s. wss certificates are not
 * checked (the example's is self-signed).
 */
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const [url, user, password, algorithm = 'SHA-256'] = process.argv.slice(2);
if (url === undefined || user === undefined || password === undefined) {
  console.error('usage: node examples/dist/s1-kamailio/sip-client.js ws://127.0.0.1:8080/ USER PASSWORD [SHA-256|MD5]');
  process.exit(2);
}
setTimeout(() => fail('no answer within 5 s'), 5000).unref();

function fail(why: string): never {
  console.error(`sip-client: ${why}`);
  process.exit(1);
}

/** The Digest challenges of a WWW-Authenticate value; several may share one (RFC 9110 §11.6.1). */
function challenges(header: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of header.matchAll(/(?:^|,)\s*(Digest\s+)?([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    if (m[1] !== undefined) out.push({});
    out.at(-1)![m[2]!] = m[3] ?? m[4]!;
  }
  return out;
}

/** RFC 7616 §3.4.1, qop=auth: response = H(H(user:realm:password):nonce:nc:cnonce:auth:H(GET:uri)). */
function authorization(c: Record<string, string>, uri: string): string {
  const H = (s: string) => createHash(c.algorithm === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const cnonce = randomBytes(12).toString('base64url');
  const response = H(`${H(`${user}:${c.realm}:${password}`)}:${c.nonce}:00000001:${cnonce}:auth:${H(`GET:${uri}`)}`);
  return `Digest username="${user}", realm="${c.realm}", uri="${uri}", algorithm=${c.algorithm}, nonce="${c.nonce}", nc=00000001, cnonce="${cnonce}", qop=auth, response="${response}", opaque="${c.opaque}"`;
}

const OPTIONS = ['OPTIONS sip:example.com SIP/2.0', 'Via: SIP/2.0/WS sip-client.invalid;branch=z9hG4bK' + randomBytes(6).toString('hex'), 'Max-Forwards: 70', 'To: <sip:example.com>', `From: <sip:${user}@example.com>;tag=${randomBytes(4).toString('hex')}`, `Call-ID: ${randomBytes(8).toString('hex')}@sip-client.invalid`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');

function attempt(headers: Record<string, string>): void {
  const ws = new WebSocket(url!, 'sip', { headers, rejectUnauthorized: false });
  ws.on('error', (err) => fail(err.message));
  ws.on('unexpected-response', (req, res) => {
    let body = '';
    res.on('data', (c: Buffer) => (body += c));
    res.on('end', () => {
      req.destroy();
      const offered = challenges(String(res.headers['www-authenticate'] ?? ''));
      const chosen = offered.find((c) => c.algorithm === algorithm);
      if (res.statusCode !== 401 || headers.Authorization !== undefined || chosen === undefined) fail(`${res.statusCode} ${res.statusMessage}: ${body.trim()}`);
      console.log(`${res.statusCode} ${res.statusMessage}: Digest challenges ${offered.map((c) => c.algorithm).join(', ')} (realm ${chosen.realm})`);
      attempt({ Authorization: authorization(chosen, new URL(url!).pathname + new URL(url!).search) });
    });
  });
  ws.on('open', () => {
    console.log(`101 Switching Protocols: ${ws.protocol}`);
    ws.send(OPTIONS);
  });
  ws.on('message', (data) => {
    console.log(String(data).split('\r\n')[0]);
    ws.close(1000);
    ws.on('close', () => process.exit(0));
  });
}

attempt({});

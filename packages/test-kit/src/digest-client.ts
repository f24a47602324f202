import { createHash } from 'node:crypto';

/**
 * A digest client for the tests, written from RFC 7616 §3.4 (and RFC 3261 §22.4, which uses it for SIP)
 * independently of the modules it tests; its own test reproduces the RFC's worked example.
 */

/** One challenge's parameters, unquoted: realm, nonce, algorithm, qop, opaque, stale … */
export type DigestChallenge = Record<string, string>;

/**
 * Every Digest challenge in one or more WWW-Authenticate / Proxy-Authenticate values: several may share a
 * value, comma-separated (RFC 9110 §11.6.1), a new one starting wherever the scheme name stands before a parameter.
 */
export function digestChallenges(values: string | readonly string[]): DigestChallenge[] {
  const out: DigestChallenge[] = [];
  for (const value of typeof values === 'string' ? [values] : values) {
    for (const m of value.matchAll(/(?:^|,)\s*(Digest\s+)?([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      if (m[1] !== undefined || out.length === 0) out.push({});
      out.at(-1)![m[2]!] = m[3] ?? m[4]!;
    }
  }
  return out;
}

export interface DigestAnswer {
  readonly user: string;
  readonly password: string;
  /** the request's method: `GET` for an upgrade, `REGISTER`, `INVITE` … for SIP */
  readonly method: string;
  /** the digest-uri: the request target, or the SIP Request-URI */
  readonly uri: string;
  /** nonce count, default 1 */
  readonly nc?: number;
  readonly cnonce?: string;
  /** another realm than the challenge's (to test a refusal) */
  readonly realm?: string;
}

/** The credentials answering `c` with qop=auth: response = H(H(user:realm:password):nonce:nc:cnonce:auth:H(method:uri)). */
export function digestAuthorization(c: DigestChallenge, a: DigestAnswer): string {
  const H = (s: string) => createHash(c.algorithm === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = a.cnonce ?? 'f2/wE4q74E6zIJEtWaHKaf5wv';
  const realm = a.realm ?? c.realm!;
  const response = H(`${H(`${a.user}:${realm}:${a.password}`)}:${c.nonce}:${nc}:${cnonce}:auth:${H(`${a.method}:${a.uri}`)}`);
  const opaque = c.opaque === undefined ? '' : `, opaque="${c.opaque}"`;
  return `Digest username="${a.user}", realm="${realm}", uri="${a.uri}", algorithm=${c.algorithm}, nonce="${c.nonce}", nc=${nc}, cnonce="${cnonce}", qop=auth, response="${response}"${opaque}`;
}

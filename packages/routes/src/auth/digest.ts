/**
 * HTTP Digest authentication (RFC 7616, and the RFC 2617 clients still common among SIP user agents), as
 * Kamailio's `www_authorize()`.
 *
 * Browsers do not answer a 401 on a WebSocket handshake (no dialog, no retry): digest serves SIP user agents
 * and tools that open the WebSocket themselves. For browsers use cookie tokens or an auth hook.
 */
import { hash } from 'node:crypto';
import { MemoryStore, type Logger, type RequestContext, type Store } from '@wsgate/core';
import type { Guard } from '../kit/guard.js';
import { invalidOption, knownKeys, seconds } from '../kit/option-checks.js';
import { STORE_RETRY_AFTER, StoreOutage, storePolicyOption, type StoreUnavailablePolicy } from '../kit/store-outage.js';
import { authParam, parseAuthParams } from './auth-params.js';
import { CredentialsFile } from './credentials/credentials-file.js';
import { NonceSigner } from './digest-nonce.js';
import { parseHtdigest, userRealmKey, type DigestAlgorithm, type Ha1s } from './credentials/htdigest.js';
import { attributeOption, realmOption, secretOption } from './options.js';
import { equalOfPublicLength, randomSecret } from '../kit/secure-compare.js';

export type { DigestAlgorithm } from './credentials/htdigest.js';

/** What a credentials callback knows of a user: the password, or precomputed HA1s (hex) per algorithm. */
export type DigestSecret = { readonly password: string } | { readonly ha1: Ha1s };

/** What every digest authenticator takes, HTTP's `digestAuth()` and SIP's `sipDigest()` alike. */
export interface DigestCredentialsOptions {
  /** The realm (Kamailio's `www_authorize("example.com", …)`), usually the domain. Default `wsgate`. */
  readonly realm?: string;
  /** An htdigest file (`user:realm:HA1`, MD5 or SHA-256 HA1); lines of other realms are ignored. Re-read when it changes. */
  readonly file?: string;
  /** Or a lookup of your own (a database): a password or HA1s, or undefined for an unknown user. */
  readonly credentials?: (user: string, realm: string) => DigestSecret | undefined | Promise<DigestSecret | undefined>;
  /** The challenges offered, preferred first, one header each. Default `['SHA-256', 'MD5']` (RFC 7616 §3.7, RFC 8760 §2.4). */
  readonly algorithms?: readonly DigestAlgorithm[];
  /**
   * The key nonces and `opaque` are signed with (≥ 32 bytes). Give every gateway sharing a store the same
   * one; without it a random key per process is used, and nonces do not survive a restart.
   */
  readonly secret?: string | Buffer;
  /** Seconds a nonce is good for; after it the client is told `stale=true`. Default 300 (Kamailio's `nonce_expire`). */
  readonly nonceTtl?: number;
  /** Where the highest nonce count seen per nonce is kept (replay protection); a shared (Redis) store for several gateways. Default: a new `MemoryStore`. */
  readonly store?: Store;
  /**
   * When the store cannot be reached (Redis down: `WSGATE_STORE_UNAVAILABLE`), after the password was checked:
   * `closed` refuses with 503 and `Retry-After` (HTTP) or SIP 503; `open` admits without the replay check.
   * Logged once per outage. Default `closed`.
   */
  readonly onStoreUnavailable?: StoreUnavailablePolicy;
  /** Seconds between checks of `file` for changes. Default 1. */
  readonly checkInterval?: number;
}

export interface DigestAuthOptions extends DigestCredentialsOptions {
  /** The request (and connection) attribute that receives the user name. Default `user`. */
  readonly attribute?: string;
}

const ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];
const HASH: Record<DigestAlgorithm, string> = { 'SHA-256': 'sha256', MD5: 'md5' };
// One-shot: no Hash object per digest (three per checked response), about a third of createHash()'s cost.
const hex = (algorithm: DigestAlgorithm, text: string) => hash(HASH[algorithm], text, 'hex');

/**
 * Refuses (401 with Digest challenges) a request without a valid digest response; admits the others with
 * the user name in the `user` attribute.
 * @example const digest = digestAuth({ realm: 'example.com', file: '/etc/wsgate/htdigest', secret: process.env.DIGEST_SECRET });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for bad options; `WSGATE_CREDENTIALS_FILE` for a bad file.
 */
export function digestAuth(options: DigestAuthOptions): Guard {
  const where = 'digestAuth()';
  const o = knownKeys(where, options, ['realm', 'file', 'credentials', 'algorithms', 'secret', 'nonceTtl', 'store', 'onStoreUnavailable', 'attribute', 'checkInterval']);
  const realm = realmOption(`${where}.realm`, o.realm);
  const algorithms = algorithmsOption(`${where}.algorithms`, o.algorithms);
  const nonceTtl = seconds(`${where}.nonceTtl`, o.nonceTtl, 300, 1, 86_400);
  const attribute = attributeOption(`${where}.attribute`, o.attribute, 'user');
  const signer = new NonceSigner(secretOption(`${where}.secret`, o.secret) ?? randomSecret(), realm, nonceTtl * 1000);
  const opaque = signer.opaque();
  const store = (o.store as Store | undefined) ?? new MemoryStore();
  const outage = new StoreOutage('digest', 'nonce counts', storePolicyOption(`${where}.onStoreUnavailable`, o.onStoreUnavailable, 'closed'));
  const lookup = credentialsOption(where, o, realm);

  // One WWW-Authenticate field per algorithm, strongest first (RFC 7616 §3.7): clients pick the first they know.
  const challenge = (stale: boolean) => ({
    'WWW-Authenticate': algorithms.map(
      (algorithm) =>
        `Digest ${authParam('realm', realm)}, ${authParam('qop', 'auth')}, algorithm=${algorithm}, ` +
        `${authParam('nonce', signer.make())}, ${authParam('opaque', opaque)}${stale ? ', stale=true' : ''}`,
    ),
  });
  const refuse = (req: RequestContext<any>, reason: string, stale = false): false => {
    req.refuse(401, 'digest', reason, challenge(stale));
    return false;
  };

  return {
    name: 'digest',
    async check(req) {
      const header = req.header('authorization');
      if (header === undefined) return refuse(req, 'no credentials');
      const parsed = parseAuthParams(header);
      if (!parsed || parsed.scheme !== 'digest') return refuse(req, 'not Digest credentials');
      const r = readResponse(parsed.params, algorithms);
      if (typeof r === 'string') return refuse(req, r);
      if (r.realm !== realm) return refuse(req, 'wrong realm');
      if (r.uri !== req.url) return refuse(req, 'uri does not match the request target');
      if (r.opaque !== opaque) return refuse(req, 'wrong opaque');
      const state = signer.check(r.nonce);
      if (state === 'invalid') return refuse(req, 'unknown nonce');

      const ha1 = await lookup(req, r.user, r.algorithm);
      if (!responseMatches(r, ha1, req.method)) return refuse(req, 'invalid user name or password');
      // Only a correct response earns `stale=true`: it tells the client its password was right.
      if (state === 'stale') return refuse(req, 'stale nonce', true);
      if (signer.countMayBeForgotten(r.nonce, store)) return refuse(req, 'nonce count forgotten by a full store: stale nonce', true);
      // Checked last, so that only someone who knows the password can use up nonce counts.
      let raised: boolean;
      try {
        raised = await store.raise(`wsgate:digest:nc:${r.nonce}`, r.nc, nonceTtl);
        outage.answered(req.log);
      } catch (err) {
        if (!outage.failed(err, req.log)) {
          req.refuse(503, 'digest', 'nonce-count store unavailable', { 'Retry-After': String(STORE_RETRY_AFTER) });
          return false;
        }
        raised = true;
      }
      if (!raised) return refuse(req, 'nonce count replayed or not increasing');
      req.set(attribute, r.user);
      return true;
    },
    async close() {
      if (o.store === undefined) await store.close();
    },
  };
}

/** The fields of a Digest response (RFC 7616 §3.4, RFC 3261 §25.1 `dig-resp`), read by {@link readResponse}. */
export interface DigestResponse {
  readonly user: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: DigestAlgorithm;
  readonly cnonce: string;
  readonly nc: number;
  readonly ncText: string;
  readonly opaque: string | undefined;
}

/** The fields of a Digest `Authorization`, or why it is not one we can check. Shared with SIP digest (@wsgate/sip). */
export function readResponse(p: ReadonlyMap<string, string>, offered: readonly DigestAlgorithm[]): DigestResponse | string {
  const user = p.has('username*') ? (p.has('username') ? undefined : extValue(p.get('username*')!)) : p.get('username');
  if (user === undefined || user === '') return 'no or malformed username';
  const algorithm = algorithmNamed(p.get('algorithm') ?? 'MD5');
  if (!algorithm || !offered.includes(algorithm)) return `algorithm ${JSON.stringify(p.get('algorithm'))} not offered`;
  if (p.get('userhash') === 'true') return 'userhash not offered';
  // qop is required: without it (RFC 2069) there is no nonce count, and so no replay protection.
  if (p.get('qop') !== 'auth') return 'qop=auth required';
  const ncText = p.get('nc') ?? '';
  if (!/^[0-9a-fA-F]{8}$/.test(ncText)) return 'malformed nonce count';
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  const cnonce = p.get('cnonce');
  if (realm === undefined || nonce === undefined || uri === undefined || response === undefined || !cnonce) return 'incomplete Digest credentials';
  return { user, realm, nonce, uri, response, algorithm, cnonce, nc: Number.parseInt(ncText, 16), ncText, opaque: p.get('opaque') };
}

/** The algorithm of that name, its case ignored (RFC 7616 §3.3): the name as a UA writes it costs no lower-cased copy. */
function algorithmNamed(name: string): DigestAlgorithm | undefined {
  if (name === 'MD5' || name === 'SHA-256') return name;
  const lower = name.toLowerCase();
  return ALGORITHMS.find((a) => a.toLowerCase() === lower);
}

/** RFC 8187 `UTF-8''percent%20encoded`. */
function extValue(value: string): string | undefined {
  const m = /^UTF-8'[^']*'(.*)$/i.exec(value);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/**
 * Does the response prove knowledge of `ha1` (RFC 7616 §3.4.1 with qop=auth)? Compared in constant time;
 * false for an unknown user (no HA1).
 */
export function responseMatches(r: DigestResponse, ha1: string | undefined, method: string): boolean {
  if (ha1 === undefined) return false;
  const a2 = hex(r.algorithm, `${method}:${r.uri}`);
  const expected = hex(r.algorithm, `${ha1}:${r.nonce}:${r.ncText}:${r.cnonce}:auth:${a2}`);
  return equalOfPublicLength(Buffer.from(r.response.toLowerCase(), 'utf8'), Buffer.from(expected, 'latin1'));
}

/** The `algorithms` option: distinct "SHA-256" and "MD5", preferred first; both when absent. */
export function algorithmsOption(where: string, value: unknown): readonly DigestAlgorithm[] {
  if (value === undefined) return ALGORITHMS;
  if (!Array.isArray(value) || value.length === 0 || value.some((a) => !ALGORITHMS.includes(a)) || new Set(value).size !== value.length) {
    throw invalidOption(where, `expected a list of distinct "SHA-256" and "MD5", preferred first, got ${JSON.stringify(value)}`);
  }
  return value as DigestAlgorithm[];
}

/** HA1 (lower-case hex) of a user for an algorithm; `at.log` hears of a file that fails to reload or a lookup that throws. */
export type DigestLookup = (at: { readonly log: Logger }, user: string, algorithm: DigestAlgorithm) => Promise<string | undefined>;

/**
 * HA1 for a user and algorithm, from the options `file` (htdigest, re-read when it changes, checked every
 * `checkInterval` seconds) or `credentials` (a callback): exactly one of them. `where` names the factory
 * (`digestAuth()`, `sipDigest()`) in errors and logs.
 */
export function credentialsOption(where: string, o: Record<string, unknown>, realm: string): DigestLookup {
  if ((o.file === undefined) === (o.credentials === undefined)) {
    throw invalidOption(where, 'give either file (an htdigest file) or credentials (a lookup function), not both');
  }
  if (o.file !== undefined) {
    if (typeof o.file !== 'string' || o.file === '') throw invalidOption(`${where}.file`, 'expected the path of an htdigest file');
    const checkInterval = seconds(`${where}.checkInterval`, o.checkInterval, 1, 0, 3600);
    const file = new CredentialsFile(`${where}.file`, o.file, parseHtdigest, checkInterval * 1000);
    return async (req, user, algorithm) => (await file.current(req.log)).get(userRealmKey(user, realm))?.[algorithm];
  }
  if (typeof o.credentials !== 'function') throw invalidOption(`${where}.credentials`, 'expected a function (user, realm) => { password } | { ha1 } | undefined');
  const credentials = o.credentials as NonNullable<DigestAuthOptions['credentials']>;
  return async (req, user, algorithm) => {
    let secret: DigestSecret | undefined;
    try {
      secret = await credentials(user, realm);
    } catch (err) {
      req.log.error({ err, user }, `${where}: the credentials lookup threw; refusing`);
      return undefined;
    }
    if (!secret) return undefined;
    return 'password' in secret ? hex(algorithm, `${user}:${realm}:${secret.password}`) : secret.ha1[algorithm]?.toLowerCase();
  };
}

/**
 * SIP digest authentication (RFC 3261 §22, RFC 8760 SHA-256, qop=auth with nonce counts as RFC 7616), as
 * Kamailio's `www_authorize()` / `proxy_authorize()` with `auth_check()`'s identity check. It reads the same
 * htdigest files as the HTTP `digestAuth()` and shares its response reading, credentials lookup and
 * self-verifying nonces (@wsgate/routes): only what SIP does differently is here — the header pairs, 400 for
 * malformed credentials, the digest-uri against the Request-URI, and the identity bindings.
 *
 * Browser phones (JsSIP, SIP.js) answer these challenges; they cannot answer a 401 on the WebSocket upgrade.
 */
import { randomBytes } from 'node:crypto';
import { type Connection, type Logger, MemoryStore, silentLogger, type Store, WsgateError } from '@wsgate/core';
import {
  authParam,
  digestAlgorithmsOption,
  digestCredentials,
  digestResponseMatches,
  isStoreUnavailable,
  NonceSigner,
  parseAuthParams,
  readDigestResponse,
  realmOption,
  secretOption,
  STORE_RETRY_AFTER,
  StoreOutage,
  storePolicyOption,
  type DigestCredentialsOptions,
} from '@wsgate/routes';
import type { SipRequest } from '../message.js';
import { assertedUser } from './asserted-identity.js';
import { IssuedNonces } from './issued-nonces.js';
import type { SipAuthenticator, SipAuthResult } from './authenticator.js';

/** The options every digest authenticator takes (realm, file or credentials, algorithms, secret, nonceTtl, store, checkInterval), and SIP's own. */
export interface SipDigestOptions extends DigestCredentialsOptions {
  /** Send `opaque` in challenges and require it back. Default true. */
  readonly opaque?: boolean;
  /**
   * The identity the WebSocket was authenticated as at its upgrade (cookie token, HTTP digest or basic), or
   * undefined. Default `conn.get('user')`, where `cookieToken()`, `digestAuth()` and `basicAuth()` put it.
   * When there is one, the SIP identity must be the same (else 403).
   */
  readonly connectionIdentity?: (conn: Connection) => string | undefined;
  /** Admit without a challenge a request whose identity is the connection's own (a browser phone that logged in with a cookie). Default false. */
  readonly trustConnection?: boolean;
  /** Hears of a credentials file that fails to reload, or a lookup that throws: give `gateway.logger`. Default: silent. */
  readonly logger?: Logger;
}

/** The header pair and answer of each side (RFC 3261 §22.2 and §22.3). */
const SIDES = {
  www: { status: 401, reason: 'Unauthorized', challenge: 'WWW-Authenticate', credentials: 'Authorization', credentialsKey: 'authorization' },
  proxy: {
    status: 407,
    reason: 'Proxy Authentication Required',
    challenge: 'Proxy-Authenticate',
    credentials: 'Proxy-Authorization',
    credentialsKey: 'proxy-authorization',
  },
} as const;

/** Challenges whose nonces are remembered (about 150 B each): many more than are answered at once under load. */
const ISSUED_NONCES = 1024;

const KEYS = ['realm', 'file', 'credentials', 'algorithms', 'secret', 'nonceTtl', 'store', 'onStoreUnavailable', 'opaque', 'checkInterval', 'connectionIdentity', 'trustConnection', 'logger'];

/**
 * A SIP digest authenticator for the registrar (`registrar({ auth })`) and the proxy.
 * @example const auth = sipDigest({ realm: 'example.com', file: '/etc/wsgate/htdigest', secret: process.env.DIGEST_SECRET, logger: gateway.logger });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for bad options; `WSGATE_CREDENTIALS_FILE` for a bad file.
 */
export function sipDigest(options: SipDigestOptions): SipAuthenticator {
  const where = 'sipDigest()';
  const o = knownKeys(where, options);
  const realm = realmOption(`${where}.realm`, o.realm);
  const algorithms = digestAlgorithmsOption(`${where}.algorithms`, o.algorithms);
  const nonceTtl = nonceTtlOption(`${where}.nonceTtl`, o.nonceTtl);
  const signer = new NonceSigner(secretOption(`${where}.secret`, o.secret) ?? randomBytes(32), realm, nonceTtl * 1000);
  // the nonces of challenges still being answered, checked without an HMAC each
  const issued = new IssuedNonces(ISSUED_NONCES, nonceTtl * 1000);
  const opaque = booleanOption(`${where}.opaque`, o.opaque, true) ? signer.opaque() : undefined;
  const trustConnection = booleanOption(`${where}.trustConnection`, o.trustConnection, false);
  const connectionIdentity = functionOption<(conn: Connection) => string | undefined>(`${where}.connectionIdentity`, o.connectionIdentity, '(conn) => string | undefined') ?? defaultIdentity;
  const store = (o.store as Store | undefined) ?? new MemoryStore();
  const log = { log: (o.logger as Logger | undefined) ?? silentLogger };
  // Closed by default: 503 with Retry-After, which a UA retries (RFC 3261 §21.5.4); open admits unchecked for replays.
  const outage = new StoreOutage('sip-digest', 'nonce counts', storePolicyOption(`${where}.onStoreUnavailable`, o.onStoreUnavailable, 'closed'));
  const lookup = digestCredentials(where, o, realm);

  // One header per algorithm, strongest first (RFC 8760 §2.4): a UA answers the first it supports. All but
  // the nonce is the same in every challenge: written once.
  const before = `Digest ${authParam('realm', realm)}, nonce="`;
  const after = (stale: boolean) =>
    algorithms.map((algorithm) => `", algorithm=${algorithm}, ${authParam('qop', 'auth')}${opaque === undefined ? '' : `, ${authParam('opaque', opaque)}`}${stale ? ', stale=true' : ''}`);
  const tails = { fresh: after(false), stale: after(true) };
  const challenge = (side: (typeof SIDES)[keyof typeof SIDES], reason: string, stale = false): SipAuthResult => {
    // a nonce is base64url: nothing in it to escape
    const now = Date.now();
    const nonce = signer.make(now);
    issued.add(nonce, now);
    const headers = (stale ? tails.stale : tails.fresh).map((tail) => [side.challenge, `${before}${nonce}${tail}`] as const);
    return { status: side.status, reason, headers };
  };
  const refuse = (status: number, reason: string): SipAuthResult => ({ status, reason, headers: [] });

  async function authenticate(conn: Connection, request: SipRequest, as: 'www' | 'proxy'): Promise<SipAuthResult> {
    const side = SIDES[as];
    const asserted = assertedUser(request);
    if (typeof asserted !== 'string') return refuse(asserted.status, asserted.reason);
    const connUser = connectionIdentity(conn);
    if (connUser !== undefined && connUser !== asserted) return refuse(403, `connection authenticated as ${connUser} cannot act as ${asserted}`);
    if (trustConnection && connUser !== undefined) return { user: connUser };

    // A UA may carry credentials for several realms (proxies on the way, §22.3): ours are the ones with our realm.
    const values = request.headers.getAll(side.credentialsKey);
    if (values.length === 0) return challenge(side, side.reason);
    let params: ReadonlyMap<string, string> | undefined;
    for (const value of values) {
      const parsed = parseAuthParams(value);
      if (parsed === undefined) return refuse(400, `malformed ${side.credentials} header`);
      if (parsed.scheme !== 'digest' || parsed.params.get('realm') !== realm) continue;
      if (params !== undefined) return refuse(400, `more than one ${side.credentials} header for realm ${realm}`);
      params = parsed.params;
    }
    if (params === undefined) return challenge(side, `no credentials for realm ${realm}`);
    const r = readDigestResponse(params, algorithms);
    // A Reason-Phrase may not hold '"' (RFC 3261 §25.1): the shared reader quotes what it names.
    if (typeof r === 'string') return refuse(400, r.replaceAll('"', "'"));
    // RFC 2617 §3.2.2.5 (which RFC 3261 §22.4 builds on): a uri other than the Request-URI is a 400, not a new
    // challenge — the UA would answer it with the same wrong uri, and a response made for another request
    // must not pass for this one.
    if (r.uri !== request.requestUri) return refuse(400, `digest uri ${r.uri} is not the Request-URI ${request.requestUri}`);
    if (opaque !== undefined && r.opaque !== opaque) return challenge(side, 'wrong opaque');
    const state = issued.state(r.nonce, Date.now()) ?? signer.check(r.nonce);
    if (state === 'invalid') return challenge(side, 'unknown nonce');
    if (!digestResponseMatches(r, await lookup(log, r.user, r.algorithm), request.method)) return challenge(side, 'invalid user name or password');
    // Only a correct response earns stale=true: it tells the UA its password was right (RFC 3261 §22.4 via RFC 2617).
    if (state === 'stale') return challenge(side, 'stale nonce', true);
    if (signer.countMayBeForgotten(r.nonce, store)) return challenge(side, 'nonce count forgotten by a full store: stale nonce', true);
    if (r.user !== asserted) return refuse(403, `authenticated as ${r.user} cannot act as ${asserted}`);
    // Last, so that only someone who knows the password can use up nonce counts.
    try {
      const raised = await store.raise(`wsgate:sip:digest:nc:${issued.own(r.nonce) ?? r.nonce}`, r.nc, nonceTtl);
      outage.answered(log.log);
      if (!raised) return challenge(side, 'nonce count replayed or not increasing');
    } catch (err) {
      // an outage goes by onStoreUnavailable; any other store error is a bug: 500
      if (!isStoreUnavailable(err)) {
        log.log.error({ err }, `${where}: the store failed; answering 500`);
        return refuse(500, 'authentication store failed');
      }
      if (!outage.failed(err, log.log)) return { status: 503, reason: 'authentication store unavailable', headers: [['Retry-After', String(STORE_RETRY_AFTER)]] };
    }
    return { user: r.user };
  }

  return {
    authenticate,
    async knows(user: string) {
      for (const algorithm of algorithms) if ((await lookup(log, user, algorithm)) !== undefined) return true;
      return false;
    },
    close() {
      if (o.store === undefined) void store.close();
    },
  };
}

/** The attribute `cookieToken()` (its subject), `digestAuth()` and `basicAuth()` set at the upgrade. */
function defaultIdentity(conn: Connection): string | undefined {
  const user = conn.get('user');
  return typeof user === 'string' && user !== '' ? user : undefined;
}

// ——— option checks: each names the option and the fix ———

const invalid = (where: string, why: string) => new WsgateError('WSGATE_CONFIG_INVALID', `${where}: ${why}`);

function knownKeys(where: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(where, `expected an options object, got ${JSON.stringify(value)}`);
  for (const key of Object.keys(value)) if (!KEYS.includes(key)) throw invalid(`${where}.${key}`, `unknown option; known ones are ${KEYS.join(', ')}`);
  return value as Record<string, unknown>;
}

function booleanOption(where: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(where, `expected true or false, got ${JSON.stringify(value)}`);
  return value;
}

function functionOption<F>(where: string, value: unknown, shape: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalid(where, `expected a function ${shape}, got ${JSON.stringify(value)}`);
  return value as F;
}

function nonceTtlOption(where: string, value: unknown): number {
  if (value === undefined) return 300;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 86_400) throw invalid(where, `expected seconds from 1 to 86400, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Cookie-token authentication: the token named by a cookie (`AUTH` by default) must be valid in a token
 * store. Browsers send cookies with a WebSocket handshake, so this is the way to authenticate browser
 * WebSockets; pair it with `origin()`, or any page on the web can open a WebSocket with your users' cookies.
 */
import { isThenable, type ConnectionDirectory, type ConnectionEntry, type RequestContext } from '@wsgate/core';
import type { Guard } from '../kit/guard.js';
import { headerName, integer, invalidOption, knownKeys } from '../kit/option-checks.js';
import { STORE_RETRY_AFTER, StoreOutage, storePolicyOption, type StoreUnavailablePolicy } from '../kit/store-outage.js';
import { attributeOption } from './options.js';
import type { TokenInfo, TokenStore } from './tokens/token-store.js';

export interface CookieTokenOptions {
  /** Where tokens are checked: `directoryTokens()`, `memoryTokens()`, `signedTokens()` or your own. */
  readonly store: TokenStore;
  /** The cookie's name. Default `AUTH`. */
  readonly cookie?: string;
  /** The request (and connection) attribute that receives the token's id, for revocation. Default `tokenId`. */
  readonly attribute?: string;
  /** The attribute that receives the token's subject, when the store knows one. Default `user`. */
  readonly subjectAttribute?: string;
  /** The gateway's connection directory (`gateway.connections`), for `revoke()` to close those a token opened. */
  readonly connections?: ConnectionDirectory;
  /**
   * When the token store's shared store cannot be reached (Redis down: `WSGATE_STORE_UNAVAILABLE`): `closed`
   * refuses with 503 and `Retry-After`; `open` admits on what the token store can tell without it
   * (`TokenStore.unchecked`: a signed token's signature and expiry, so only revocations go unseen; any
   * well-formed opaque token). Logged once per outage. Default `closed`.
   */
  readonly onStoreUnavailable?: StoreUnavailablePolicy;
}

export interface CookieTokenGuard extends Guard {
  /**
   * Revokes a token in the store and closes the WebSockets it opened (close code 1008 Policy Violation and
   * reason `token revoked` unless given). Resolves with the number of connections closed. Rejects with
   * `WSGATE_STORE_UNAVAILABLE` while the token store's shared store is out of reach: nothing revoked or closed.
   */
  revoke(token: string, close?: { code?: number; reason?: string }): Promise<number>;
  /**
   * Closes the WebSockets opened with the token of this id (one revoked elsewhere, e.g. on another node) and
   * answers how many: at once with the in-process directory, through a promise with one that must ask.
   */
  closeConnections(id: string, close?: { code?: number; reason?: string }): number | Promise<number>;
}

/**
 * Refuses (403) a request without the cookie, or whose token the store does not accept.
 * @example const auth = cookieToken({ store: directoryTokens({ dir: '/var/lib/wsgate/tokens' }), connections: gateway.connections });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for bad options.
 */
export function cookieToken(options: CookieTokenOptions): CookieTokenGuard {
  const o = knownKeys('cookieToken()', options, ['store', 'cookie', 'attribute', 'subjectAttribute', 'connections', 'onStoreUnavailable']);
  const store = o.store as TokenStore | undefined;
  if (!store || typeof store.verify !== 'function' || typeof store.revoke !== 'function') {
    throw invalidOption('cookieToken().store', 'give a token store: directoryTokens({ dir }), memoryTokens() or signedTokens({ secret })');
  }
  const cookie = o.cookie === undefined ? 'AUTH' : headerName('cookieToken().cookie', String(o.cookie));
  const attribute = attributeOption('cookieToken().attribute', o.attribute, 'tokenId');
  const subjectAttribute = attributeOption('cookieToken().subjectAttribute', o.subjectAttribute, 'user');
  const connections = o.connections as ConnectionDirectory | undefined;
  if (connections !== undefined && typeof connections.list !== 'function') {
    throw invalidOption('cookieToken().connections', 'expected the gateway\'s connection directory: connections: gateway.connections');
  }
  const outage = new StoreOutage('cookie-token', 'tokens', storePolicyOption('cookieToken().onStoreUnavailable', o.onStoreUnavailable, 'closed'));
  // Look-ups started by prefetch() for check() of the same request: read when the request was, never cached.
  const started = new WeakMap<RequestContext<any>, { readonly token: string; readonly info: Promise<TokenInfo | undefined> }>();

  const closeConnections = (id: string, close: { code?: number; reason?: string } = {}): number | Promise<number> => {
    if (!connections) throw invalidOption('cookieToken().connections', 'closing connections needs connections: gateway.connections');
    const code = integer('cookieToken().revoke() close code', close.code, 1008, 1000, 4999);
    const reason = close.reason ?? 'token revoked';
    // A shared directory asks every node to close its own: the listing may not have a connection just opened.
    if (connections.closeMatching) return connections.closeMatching(attribute, id, code, reason);
    const closeAll = (opened: readonly ConnectionEntry<any>[]): number => {
      for (const conn of opened) conn.close(code, reason);
      return opened.length;
    };
    const opened = connections.list((conn) => conn.get(attribute) === id);
    return isThenable(opened) ? opened.then(closeAll) : closeAll(opened);
  };

  return {
    name: 'cookie-token',
    check(req) {
      const token = req.cookie(cookie);
      if (token === undefined || token === '') {
        req.refuse(403, 'cookie-token', `no ${cookie} cookie`);
        return false;
      }
      const admit = (info: TokenInfo | undefined): boolean => {
        if (!info) {
          req.refuse(403, 'cookie-token', `unknown, malformed or expired ${cookie} token`);
          return false;
        }
        req.set(attribute, info.id);
        if (info.subject !== undefined) req.set(subjectAttribute, info.subject);
        return true;
      };
      // A token the store remembers is answered at once; one it must look up, through a promise.
      const prefetched = started.get(req);
      if (prefetched) started.delete(req);
      const info = prefetched?.token === token ? prefetched.info : store.verify(token);
      if (!isThenable(info)) return admit(info);
      return info.then(
        (found) => {
          outage.answered(req.log);
          return admit(found);
        },
        (err: unknown) => {
          if (outage.failed(err, req.log) && store.unchecked) return admit(store.unchecked(token));
          req.refuse(503, 'cookie-token', 'token store unavailable', { 'Retry-After': String(STORE_RETRY_AFTER) });
          return false;
        },
      );
    },
    prefetch(req) {
      const token = req.cookie(cookie);
      if (token === undefined || token === '' || started.has(req)) return;
      const info = store.verify(token);
      if (!isThenable(info)) return;
      // Handled here too: check() may never come (an earlier guard refused), and then no one else reads it.
      info.then(undefined, () => undefined);
      started.set(req, { token, info });
    },
    async revoke(token, close) {
      const id = await store.revoke(token);
      if (id === undefined) return 0;
      return connections ? closeConnections(id, close) : 0;
    },
    closeConnections,
    /** Closes the token store too. */
    async close() {
      await store.close();
    },
  };
}

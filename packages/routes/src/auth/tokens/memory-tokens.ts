/**
 * Tokens issued by the application and kept in a core `Store` with a TTL: memory in one process, Redis when
 * several gateways must accept each other's tokens. Keys are the token's hash, never the token.
 */
import { randomBytes } from 'node:crypto';
import { MemoryStore, type Store } from '@wsgate/core';
import { invalidOption, knownKeys, seconds } from '../../kit/option-checks.js';
import { OPAQUE_TOKEN, opaqueTokenId, type TokenInfo, type TokenStore } from './token-store.js';

export interface MemoryTokensOptions {
  /** Seconds a token lives unless `issue()` / `add()` says otherwise. Default 86400 (a day). */
  readonly ttl?: number;
  /** Where tokens are kept. Default: a new `MemoryStore`. */
  readonly store?: Store;
}

/** A token store that also issues tokens. */
export interface IssuingTokenStore extends TokenStore {
  /** A new random token (32 bytes, base64url), valid for `ttl` seconds. */
  issue(options?: { subject?: string; ttl?: number }): Promise<string>;
  /** Accepts a token made elsewhere (16–128 base64url characters). */
  add(token: string, options?: { subject?: string; ttl?: number }): Promise<void>;
}

const key = (token: string) => `wsgate:token:${opaqueTokenId(token)}`;

/**
 * @example const tokens = memoryTokens({ ttl: 3600 }); const token = await tokens.issue({ subject: 'alice' });
 */
export function memoryTokens(options: MemoryTokensOptions = {}): IssuingTokenStore {
  const o = knownKeys('memoryTokens()', options, ['ttl', 'store']);
  const defaultTtl = seconds('memoryTokens().ttl', o.ttl, 86_400, 0.001, 10 * 365 * 86_400);
  const store = (o.store as Store | undefined) ?? new MemoryStore();

  const add = async (token: string, opts: { subject?: string; ttl?: number } = {}): Promise<void> => {
    if (!OPAQUE_TOKEN.test(token)) throw invalidOption('memoryTokens().add()', 'a token is 16 to 128 characters of A-Z a-z 0-9 _ -');
    const ttl = seconds('memoryTokens().add().ttl', opts.ttl, defaultTtl, 0.001, 10 * 365 * 86_400);
    const record: { sub?: string; exp: number } = { exp: Date.now() + ttl * 1000 };
    if (opts.subject !== undefined) record.sub = opts.subject;
    await store.set(key(token), JSON.stringify(record), ttl);
  };

  return {
    async issue(opts) {
      const token = randomBytes(32).toString('base64url');
      await add(token, opts);
      return token;
    },
    add,
    async verify(token): Promise<TokenInfo | undefined> {
      if (!OPAQUE_TOKEN.test(token)) return undefined;
      const value = await store.get(key(token));
      if (value === undefined) return undefined;
      const record = JSON.parse(value) as { sub?: string; exp: number };
      const info: { id: string; subject?: string; expiresAt: number } = { id: opaqueTokenId(token), expiresAt: record.exp };
      if (record.sub !== undefined) info.subject = record.sub;
      return info;
    },
    // Without the store an opaque token is only a well-formed string: open admits any such cookie.
    unchecked: (token) => (OPAQUE_TOKEN.test(token) ? { id: opaqueTokenId(token) } : undefined),
    async revoke(token) {
      if (!OPAQUE_TOKEN.test(token)) return undefined;
      await store.delete(key(token));
      return opaqueTokenId(token);
    },
    async close() {
      if (o.store === undefined) await store.close();
    },
  };
}

/**
 * Signed tokens: the subject, expiry and an id, with an HMAC-SHA256 under a secret the gateway shares with
 * whoever issues them. Checking one needs no store; only revocations (until the token would have expired
 * anyway) are kept in one.
 *
 * Format: `base64url(JSON {sub, exp, jti}) "." base64url(HMAC-SHA256(secret, first part))`: cookie-safe,
 * and easy to produce from any language.
 */
import { randomBytes } from 'node:crypto';
import { MemoryStore, type Store } from '@wsgate/core';
import { invalidOption, knownKeys, seconds } from '../../kit/option-checks.js';
import { secretOption } from '../options.js';
import { equalOfPublicLength, hmac } from '../../kit/secure-compare.js';
import type { TokenInfo, TokenStore } from './token-store.js';

export interface SignedTokensOptions {
  /** The signing key, at least 32 bytes; the same on every gateway and on the issuer. */
  readonly secret: string | Buffer;
  /** Seconds a token made by `sign()` lives unless told otherwise. Default 86400 (a day). */
  readonly ttl?: number;
  /** Where revocations are kept. Default: a new `MemoryStore` (this process only). */
  readonly store?: Store;
}

export interface SigningTokenStore extends TokenStore {
  /** A token for `subject`, valid for `ttl` seconds. */
  sign(options: { subject: string; ttl?: number }): string;
}

/** Long enough for any reasonable subject; longer cookies are refused unread. */
const SHAPE = /^([A-Za-z0-9_-]{1,1024})\.([A-Za-z0-9_-]{43})$/;

/**
 * @example const tokens = signedTokens({ secret: process.env.TOKEN_SECRET! }); tokens.sign({ subject: 'alice' });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` without a secret of at least 32 bytes.
 */
export function signedTokens(options: SignedTokensOptions): SigningTokenStore {
  const o = knownKeys('signedTokens()', options, ['secret', 'ttl', 'store']);
  const secret = secretOption('signedTokens().secret', o.secret);
  if (!secret) throw invalidOption('signedTokens().secret', 'is required: a key of at least 32 bytes, e.g. the output of `openssl rand -base64 48`');
  const defaultTtl = seconds('signedTokens().ttl', o.ttl, 86_400, 0.001, 10 * 365 * 86_400);
  const revoked = (o.store as Store | undefined) ?? new MemoryStore();

  /** The payload of a token whose signature is right (expired or not); undefined otherwise. */
  const open = (token: string): { sub: string; exp: number; jti: string } | undefined => {
    const m = SHAPE.exec(token);
    if (!m) return undefined;
    const mac = Buffer.from(m[2]!, 'base64url');
    if (!equalOfPublicLength(mac, hmac(secret, m[1]!))) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const { sub, exp, jti } = payload;
      if (typeof sub !== 'string' || typeof exp !== 'number' || typeof jti !== 'string') return undefined;
      return { sub, exp, jti };
    } catch {
      return undefined;
    }
  };

  /** Signature and expiry, without the revocations. */
  const unchecked = (token: string): TokenInfo | undefined => {
    const payload = open(token);
    if (!payload || payload.exp <= Date.now()) return undefined;
    return { id: payload.jti, subject: payload.sub, expiresAt: payload.exp };
  };

  return {
    sign({ subject, ttl }) {
      if (typeof subject !== 'string') throw invalidOption('signedTokens().sign().subject', 'expected a string');
      const life = seconds('signedTokens().sign().ttl', ttl, defaultTtl, 0.001, 10 * 365 * 86_400);
      const body = Buffer.from(JSON.stringify({ sub: subject, exp: Date.now() + life * 1000, jti: randomBytes(12).toString('base64url') })).toString('base64url');
      return `${body}.${hmac(secret, body).toString('base64url')}`;
    },
    async verify(token): Promise<TokenInfo | undefined> {
      const info = unchecked(token);
      if (!info || (await revoked.get(`wsgate:revoked:${info.id}`)) !== undefined) return undefined;
      return info;
    },
    unchecked,
    async revoke(token) {
      const payload = open(token);
      if (!payload) return undefined;
      const left = (payload.exp - Date.now()) / 1000;
      // Remembered only while the token could still be used: afterwards its expiry refuses it anyway.
      if (left > 0) await revoked.set(`wsgate:revoked:${payload.jti}`, '1', left);
      return payload.jti;
    },
    async close() {
      if (o.store === undefined) await revoked.close();
    },
  };
}

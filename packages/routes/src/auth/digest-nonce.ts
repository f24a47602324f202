/**
 * Digest nonces that verify themselves (as Kamailio's auth module makes them): the issue time and random
 * bytes, with an HMAC under the gateway's secret. Any node sharing the secret can tell a nonce it issued
 * from a forged one, and how old it is, without having stored it. Replays of one nonce are a separate
 * matter (the nonce count, kept in the store).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomInto, type Store } from '@wsgate/core';
import { hmac } from '../kit/secure-compare.js';

export type NonceState = 'valid' | 'stale' | 'invalid';

const TIME = 8;
const RANDOM = 12;
const MAC = 16;
const LENGTH = TIME + RANDOM + MAC;
/** Nodes' clocks may differ a little; a nonce from further in the future is forged or broken. */
const MAX_SKEW_MS = 5000;

export class NonceSigner {
  /** What every MAC starts with (the realm bound in), made once. */
  private readonly macPrefix: Buffer;

  constructor(
    private readonly secret: Buffer,
    /** Bound into every MAC: a nonce for one realm is no good in another. */
    private readonly realm: string,
    private readonly ttlMs: number,
  ) {
    this.macPrefix = Buffer.from(`nonce\0${realm}\0`);
  }

  /** A fresh nonce: base64url of time, random bytes and MAC (48 characters). */
  make(now = Date.now()): string {
    // one buffer: the body, then the MAC of the body written after it
    const bytes = Buffer.allocUnsafe(LENGTH);
    bytes.writeBigUInt64BE(BigInt(now), 0);
    randomInto(bytes, TIME, RANDOM);
    this.mac(bytes.subarray(0, TIME + RANDOM)).copy(bytes, TIME + RANDOM, 0, MAC);
    return bytes.toString('base64url');
  }

  /** `valid`, `stale` (ours but older than the TTL: the client should retry with a new one) or `invalid`. */
  check(nonce: string, now = Date.now()): NonceState {
    if (nonce.length !== 48 || !/^[A-Za-z0-9_-]+$/.test(nonce)) return 'invalid';
    const bytes = Buffer.from(nonce, 'base64url');
    if (bytes.length !== LENGTH) return 'invalid';
    const body = bytes.subarray(0, TIME + RANDOM);
    if (!timingSafeEqual(bytes.subarray(TIME + RANDOM), this.mac(body))) return 'invalid';
    const issued = Number(body.readBigUInt64BE(0));
    if (issued > now + MAX_SKEW_MS) return 'invalid';
    return now - issued > this.ttlMs ? 'stale' : 'valid';
  }

  /**
   * Whether `store` may have dropped this nonce's count to make room (`Store.forgottenThrough`: it dropped a
   * live key written after the nonce was issued). The count could not tell a replay from a first use then, so
   * the caller answers the nonce as stale: the client retries with a fresh one. Only for a nonce `check()`
   * found to be ours.
   */
  countMayBeForgotten(nonce: string, store: Pick<Store, 'forgottenThrough'>): boolean {
    const through = store.forgottenThrough;
    if (through === undefined || through === -Infinity) return false;
    // the issue time: the nonce's first 8 bytes (12 base64url characters hold 9)
    return Number(Buffer.from(nonce.slice(0, 12), 'base64url').readBigUInt64BE(0)) <= through;
  }

  /** The `opaque` value: fixed per secret and realm, so that any node can check it. */
  opaque(): string {
    return hmac(this.secret, `opaque\0${this.realm}`).subarray(0, 16).toString('base64url');
  }

  /** The MAC of a body (its first MAC bytes are the nonce's). */
  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(this.macPrefix).update(body).digest().subarray(0, MAC);
  }
}

/**
 * The nonces this authenticator issued lately, and when: credentials that carry one of them are known to be
 * ours without recomputing the nonce's MAC (`NonceSigner.check()`, an HMAC per authenticated request). A nonce
 * not found here (issued by another gateway sharing the secret, or forgotten) is checked by its MAC as before,
 * so this changes no answer, only its cost. Bounded: past `max` nonces the oldest is forgotten.
 */
export class IssuedNonces {
  private readonly issued = new Map<string, IssuedNonce>();

  constructor(
    private readonly max: number,
    /** as the signer's: older than this, a nonce is stale */
    private readonly ttlMs: number,
  ) {}

  /** `nonce` was issued at `now` (ms since the epoch). */
  add(nonce: string, now: number): void {
    if (this.issued.size >= this.max) this.issued.delete(this.issued.keys().next().value!);
    this.issued.set(nonce, { nonce, at: now });
  }

  /** What the signer's check would say of a nonce issued here ('valid' or 'stale'); undefined when it is not one of them. */
  state(nonce: string, now: number): 'valid' | 'stale' | undefined {
    const issued = this.issued.get(nonce);
    if (issued === undefined) return undefined;
    return now - issued.at > this.ttlMs ? 'stale' : 'valid';
  }

  /**
   * The string this authenticator made for `nonce`, when it is one of its own: a key kept as long as the nonce
   * lives (its nonce count) made of it holds no part of the request that carried the nonce, which a slice would.
   */
  own(nonce: string): string | undefined {
    return this.issued.get(nonce)?.nonce;
  }
}

interface IssuedNonce {
  readonly nonce: string;
  readonly at: number;
}

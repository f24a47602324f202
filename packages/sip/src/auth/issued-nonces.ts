/**
 * The nonces this authenticator issued lately, and when: credentials that carry one of them are known to be
 * ours without recomputing the nonce's MAC (`NonceSigner.check()`, an HMAC per authenticated request). A nonce
 * not found here (issued by another gateway sharing the secret, or forgotten) is checked by its MAC as before,
 * so this changes no answer, only its cost. Bounded: past `max` nonces the oldest is forgotten.
 */
export class IssuedNonces {
  private readonly issuedAt = new Map<string, number>();

  constructor(
    private readonly max: number,
    /** as the signer's: older than this, a nonce is stale */
    private readonly ttlMs: number,
  ) {}

  /** `nonce` was issued at `now` (ms since the epoch). */
  add(nonce: string, now: number): void {
    if (this.issuedAt.size >= this.max) this.issuedAt.delete(this.issuedAt.keys().next().value!);
    this.issuedAt.set(nonce, now);
  }

  /** What the signer's check would say of a nonce issued here ('valid' or 'stale'); undefined when it is not one of them. */
  state(nonce: string, now: number): 'valid' | 'stale' | undefined {
    const issued = this.issuedAt.get(nonce);
    if (issued === undefined) return undefined;
    return now - issued > this.ttlMs ? 'stale' : 'valid';
  }
}

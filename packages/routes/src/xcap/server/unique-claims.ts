/**
 * Values unique amongst every document of a usage on the server (RFC 4826 §4.4.5: "The URI in the "uri"
 * attribute of the <service> element MUST be unique amongst all other URIs ... in any document on a particular
 * server"), kept as an index in the storage's records: one record per value (`unique:<auid>:<value>`) naming the
 * document that holds it. Every record change is a compare-and-set, so of two writers (on one gateway or two
 * sharing Redis) taking one value, one wins and the other sees it taken.
 *
 * A write of a document first claims each of its values (a record "pending" for that document, with a token of
 * this write), then writes the document, then confirms the claims (no longer pending) and releases the values its
 * old text held and its new one does not. A record is only ever replaced from the exact text read, and every
 * claim carries a new token, so a record changed by another writer in between is never overwritten. A value is
 * taken when its record names another document that still holds it, or a write claimed it moments ago; a record
 * naming a document that no longer holds the value (a writer that failed or died between its steps) is stale and
 * claimed over.
 */
import { randomBytes } from 'node:crypto';
import type { DocumentRef, IndexRecords } from '../storage/document-storage.js';
import { encodeSelector } from '../uri.js';
import type { UniqueValue } from '../usages/usage.js';
import { XcapError, xcapConflict } from '../xcap-error.js';

/** A pending claim younger than this is a write under way (its writer checks it did not outlive this). */
export const PENDING_MS = 30_000;
/** How many times one record is read again after losing a race on it. */
const MAX_TRIES = 16;
/** How many alternatives are tried for an alt-value. */
const MAX_ALTERNATIVES = 8;

interface Holder {
  readonly scope: DocumentRef['scope'];
  readonly xui: string | undefined;
  readonly document: string;
}

interface Claim {
  readonly holder: Holder;
  readonly token: string;
  /** When the claim was made, while its document is not yet written. */
  readonly pendingSince?: number;
}

/** Does the document `ref` hold `value` now? Read from the storage. */
export type HoldsValue = (ref: DocumentRef, value: string) => Promise<boolean>;

/** The claims of one write: confirmed once its document is written, given back when it is not. */
export interface Claims {
  /** The document was written: the claims are no longer pending. */
  confirm(): Promise<void>;
  /** The document was not written: each record goes back to what it was, unless changed since. */
  abandon(): Promise<void>;
  /** When the first claim was made (a write must not outlive PENDING_MS from it). */
  readonly since: number;
}

export class UniqueClaims {
  constructor(
    private readonly records: IndexRecords,
    private readonly holds: HoldsValue,
  ) {}

  /**
   * Claims `values` for the document `ref`.
   * @throws XcapError 409 uniqueness-failure (with an alt-value nobody holds) for a value another document holds;
   *   503 when a record kept changing
   */
  async claim(ref: DocumentRef, values: readonly UniqueValue[]): Promise<Claims> {
    const token = randomBytes(9).toString('base64url');
    const since = Date.now();
    const made: { key: string; before: string | undefined; mine: string }[] = [];
    const abandon = async () => {
      for (const m of made) await this.records.compareAndSet(m.key, m.mine, m.before).catch(() => undefined);
    };
    // In one order for every writer, so that two writers wanting the same values meet on the first one.
    const sorted = [...new Map(values.map((v) => [v.value, v])).values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    try {
      for (const v of sorted) {
        const key = keyOf(ref.auid, v.value);
        const mine = JSON.stringify({ holder: holderOf(ref), token, pendingSince: since } satisfies Claim);
        let done = false;
        for (let i = 0; i < MAX_TRIES && !done; i++) {
          const before = await this.records.get(key);
          const claim = parseClaim(before);
          if (claim !== undefined && !sameHolder(claim.holder, ref) && (await this.live(ref.auid, claim, v.value))) {
            throw xcapConflict('uniqueness-failure', `the ${v.attribute} "${v.value}" of <${v.element}> is already used by another document on this server`, {
              exists: { field: encodeSelector(v.field), altValues: [await this.alternative(ref.auid, v.value, new Set(values.map((x) => x.value)))] },
            });
          }
          if (await this.records.compareAndSet(key, before, mine)) {
            made.push({ key, before, mine });
            done = true;
          }
        }
        if (!done) throw new XcapError(503, `the index record of "${v.value}" kept changing under ${MAX_TRIES} attempts; try again`, undefined, { 'Retry-After': '1' });
      }
    } catch (err) {
      await abandon();
      throw err;
    }
    return {
      since,
      abandon,
      confirm: async () => {
        for (const m of made) {
          const held = JSON.stringify({ holder: holderOf(ref), token } satisfies Claim);
          await this.records.compareAndSet(m.key, m.mine, held);
        }
      },
    };
  }

  /**
   * After `ref` was written without them (or deleted): removes the records of `values` that still name it, when
   * it indeed no longer holds them and no write of it claimed them meanwhile.
   */
  async release(ref: DocumentRef, values: readonly string[]): Promise<void> {
    for (const value of values) {
      const key = keyOf(ref.auid, value);
      const before = await this.records.get(key);
      const claim = parseClaim(before);
      if (claim === undefined || !sameHolder(claim.holder, ref) || claim.pendingSince !== undefined) continue;
      if (await this.holds({ auid: ref.auid, ...claim.holder }, value)) continue;
      // Lost to a writer that claimed it since: theirs now, leave it.
      await this.records.compareAndSet(key, before, undefined);
    }
  }

  /** Is `claim` (another document's) still in force: a write under way, or a document that holds the value? */
  private async live(auid: string, claim: Claim, value: string): Promise<boolean> {
    if (claim.pendingSince !== undefined && Date.now() - claim.pendingSince < PENDING_MS) return true;
    return this.holds({ auid, ...claim.holder }, value);
  }

  /** A value like `value` nobody holds (`sip:friends-2@example.com`), for the 409's alt-value (RFC 4825 §11.6). */
  private async alternative(auid: string, value: string, own: ReadonlySet<string>): Promise<string> {
    // Before the host of a user@host URI, else at the end.
    const at = value.lastIndexOf('@');
    const make = (suffix: string) => (at > 0 ? `${value.slice(0, at)}-${suffix}${value.slice(at)}` : `${value}-${suffix}`);
    for (let n = 2; n < 2 + MAX_ALTERNATIVES; n++) {
      const candidate = make(String(n));
      if (!own.has(candidate) && (await this.records.get(keyOf(auid, candidate))) === undefined) return candidate;
    }
    return make(randomBytes(6).toString('hex'));
  }
}

function keyOf(auid: string, value: string): string {
  return `unique:${encodeURIComponent(auid)}:${value}`;
}

function holderOf(ref: DocumentRef): Holder {
  return { scope: ref.scope, xui: ref.xui, document: ref.document };
}

function sameHolder(h: Holder, ref: DocumentRef): boolean {
  return h.scope === ref.scope && (h.xui ?? null) === (ref.xui ?? null) && h.document === ref.document;
}

function parseClaim(raw: string | undefined): Claim | undefined {
  if (raw === undefined) return undefined;
  const parsed = JSON.parse(raw) as Claim;
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.holder !== 'object') throw new Error('xcap: an index record is not a claim');
  return parsed;
}

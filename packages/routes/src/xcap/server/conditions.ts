/**
 * Conditional requests (RFC 4825 §7.11, RFC 9110 §13): `If-Match` and `If-None-Match` against the document's
 * current entity tag, before anything is read out or written. A pure check.
 */
import { XcapError } from '../xcap-error.js';

export interface Conditions {
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
}

/**
 * Throws what a failed condition answers: 304 (GET and HEAD, `If-None-Match` matched) or 412, each with the
 * current ETag when the document exists.
 * @param etag the document's ETag now; undefined when it does not exist
 * @param read GET or HEAD
 */
export function checkConditions(conditions: Conditions, etag: string | undefined, read: boolean): void {
  const headers: Record<string, string> = etag === undefined ? {} : { ETag: etag };
  const { ifMatch, ifNoneMatch } = conditions;
  // RFC 9110 §13.1.1: strong comparison; '*' holds when the document exists.
  if (ifMatch !== undefined && !(etag !== undefined && matches(ifMatch, etag, false))) {
    throw new XcapError(412, etag === undefined ? 'If-Match: the document does not exist' : 'If-Match: the document has changed (its ETag differs)', undefined, headers);
  }
  // §13.1.2: weak comparison.
  if (ifNoneMatch !== undefined && etag !== undefined && matches(ifNoneMatch, etag, true)) {
    if (read) throw new XcapError(304, 'Not Modified', undefined, headers);
    throw new XcapError(412, 'If-None-Match: the document exists with a listed ETag', undefined, headers);
  }
}

/** Does the header's list (`*`, or entity tags separated by commas) hold `etag`? */
function matches(header: string, etag: string, weak: boolean): boolean {
  const value = header.trim();
  if (value === '*') return true;
  for (const m of value.matchAll(/(W\/)?"([^"]*)"/g)) {
    if (m[1] !== undefined && !weak) continue;
    if (`"${m[2]}"` === etag) return true;
  }
  return false;
}

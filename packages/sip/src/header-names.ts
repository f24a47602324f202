/**
 * Header names: compact forms (RFC 3261 §7.3.3 and the RFCs that added more) and the key a header is found
 * by, its full name lower-cased, so that `v:` and `VIA:` are both `via`.
 */

const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event', // RFC 6665
  u: 'allow-events', // RFC 6665
  r: 'refer-to', // RFC 3515
  b: 'referred-by', // RFC 3892
  x: 'session-expires', // RFC 4028
  a: 'accept-contact', // RFC 3841
  j: 'reject-contact', // RFC 3841
  d: 'request-disposition', // RFC 3841
  y: 'identity', // RFC 8224
};

/** The key of a header name as written: lower-cased, compact forms expanded. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? lower;
  return lower;
}

/** A name as commonly written, with its key. */
export interface KnownName {
  readonly name: string;
  readonly key: string;
}

// Names as user agents write them: a field with one of these takes these strings rather than a slice and a
// lower-cased copy of its own (the parser reads about ten fields per message, and the copies outlive it).
const COMMON = [
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Contact', 'Content-Length', 'Content-Type', 'Expires',
  'Authorization', 'Proxy-Authorization', 'WWW-Authenticate', 'Proxy-Authenticate', 'Route', 'Record-Route', 'Path',
  'User-Agent', 'Server', 'Allow', 'Supported', 'Require', 'Accept', 'Date', 'Event', 'Min-Expires', 'Timestamp',
  'Reason', 'Subject', 'Allow-Events', 'Session-Expires', 'Min-SE', 'Organization', 'Call-Id', 'Cseq', 'Www-Authenticate',
  'v', 'f', 't', 'i', 'm', 'l', 'c', 'k',
];
/** The common names by their first character's code. */
const BY_FIRST: ReadonlyArray<readonly KnownName[] | undefined> = (() => {
  const table: KnownName[][] = [];
  for (const name of COMMON) (table[name.charCodeAt(0)] ??= []).push({ name, key: headerKey(name) });
  return table;
})();

/** The common name written at `s[start, end)` exactly (case included), or undefined: a lookup without a slice. */
export function knownName(s: string, start: number, end: number): KnownName | undefined {
  const candidates = BY_FIRST[s.charCodeAt(start)];
  if (candidates === undefined) return undefined;
  const length = end - start;
  for (const c of candidates) if (c.name.length === length && s.startsWith(c.name, start)) return c;
  return undefined;
}

/** Headers that may appear only once (RFC 3261 §7.3.1: not a comma-separated list). */
export const SINGLE: ReadonlySet<string> = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
  'min-expires',
]);

/** The full name to write for a key when a header is built, not copied. */
const CANONICAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
};

export function canonicalName(key: string): string {
  return CANONICAL[key] ?? key.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * XCAP request URIs (RFC 4825 §6): `<root>/<auid>/users/<xui>/<document path>` and `<root>/<auid>/global/<document
 * path>`, each optionally followed by `/~~/<node selector>`. A pure parser (docs/design.md convention 1).
 */
import { XcapError } from './xcap-error.js';

/** The separator between the document selector and the node selector (RFC 4825 §6). */
const SEPARATOR = '/~~/';

/** A parsed XCAP URI: the document it names and, when there is one, the node selector inside it. */
export interface XcapUri {
  readonly auid: string;
  /** `users` for a user's document, `global` for the usage's global documents. */
  readonly scope: 'users' | 'global';
  /** The XCAP User Identifier, percent-decoded (`sip:joe@example.com`); undefined for a global document. */
  readonly xui: string | undefined;
  /** The document's path inside its user or global folder, each segment decoded, joined by `/` (`index`, `a/b`). */
  readonly document: string;
  /** The request path up to the document, as received (still encoded): the base of ancestor URIs. */
  readonly documentPath: string;
  /** The node selector, percent-decoded (RFC 4825 §6.3); undefined when the URI names the whole document. */
  readonly selector: string | undefined;
}

/**
 * Parses `path` (the request's normalised path) under the XCAP root `root` (no trailing slash).
 * @returns undefined when the path is not under `root`: the request is not XCAP's
 * @throws XcapError 404 when the path is under `root` but names no document (no scope, no XUI, no document
 *   name, a scope other than `users` or `global`); 400 for an escape that is not UTF-8, an empty segment, or an
 *   empty node selector
 */
export function parseXcapUri(path: string, root: string): XcapUri | undefined {
  if (!path.startsWith(`${root}/`)) return undefined;
  const rest = path.slice(root.length + 1);
  const cut = rest.indexOf(SEPARATOR);
  const documentPart = cut < 0 ? rest : rest.slice(0, cut);
  const selectorPart = cut < 0 ? undefined : rest.slice(cut + SEPARATOR.length);
  if (selectorPart !== undefined && selectorPart === '') throw new XcapError(400, 'empty node selector after /~~/');
  const segments = documentPart.split('/');
  const [auidRaw, scope, ...tail] = segments;
  if (auidRaw === undefined || auidRaw === '' || scope === undefined) throw new XcapError(404, 'not an XCAP document URI: expected <auid>/users/<xui>/<document> or <auid>/global/<document>');
  if (scope !== 'users' && scope !== 'global') throw new XcapError(404, `not an XCAP document URI: "${shownSegment(scope)}" is neither users nor global`);
  const auid = decode(auidRaw, 'application usage');
  let xui: string | undefined;
  let documentSegments = tail;
  if (scope === 'users') {
    const [xuiRaw, ...docs] = tail;
    if (xuiRaw === undefined || xuiRaw === '') throw new XcapError(404, 'not an XCAP document URI: no XUI after users/');
    xui = decode(xuiRaw, 'XUI');
    documentSegments = docs;
  }
  if (documentSegments.length === 0 || documentSegments.every((s) => s === '')) {
    throw new XcapError(404, 'not an XCAP document URI: no document name');
  }
  if (documentSegments.some((s) => s === '')) throw new XcapError(400, 'empty segment in the document path');
  const document = documentSegments.map((s) => decode(s, 'document path')).join('/');
  if (document.includes('/~~') || document.split('/').includes('~~')) throw new XcapError(400, 'misplaced ~~ in the document path');
  const selector = selectorPart === undefined ? undefined : decode(selectorPart, 'node selector');
  return { auid, scope, xui, document, documentPath: `${root}/${documentPart}`, selector };
}

/** RFC 3986 percent-decoding; an escape that is not UTF-8 is a 400. */
function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new XcapError(400, `bad percent-encoding in the ${what}`);
  }
}

/**
 * Percent-encodes a node selector for a URI (RFC 4825 §6.3: the characters a path may not hold, such as `[`, `]`,
 * `"`, space), keeping `/`, `@`, `:`, `=` and the other characters a path segment allows.
 */
export function encodeSelector(selector: string): string {
  return selector.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (ch) =>
    Array.from(Buffer.from(ch, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

function shownSegment(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

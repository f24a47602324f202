/**
 * What an XCAP request can fail with (RFC 4825 §11): a status, a reason for the log, and, for 409, the
 * `application/xcap-error+xml` body that XCAP clients read to tell the conflicts apart.
 */

/** RFC 4825 §11.2's conflict elements, the ones this server sends. */
export type XcapConflictTag =
  | 'not-well-formed'
  | 'not-utf-8'
  | 'not-xml-frag'
  | 'not-xml-att-value'
  | 'schema-validation-error'
  | 'no-parent'
  | 'cannot-insert'
  | 'cannot-delete'
  | 'uniqueness-failure'
  | 'constraint-failure';

export interface XcapConflict {
  readonly tag: XcapConflictTag;
  /** Human-readable text, sent as the element's `phrase` attribute. */
  readonly phrase: string;
  /** no-parent: the HTTP URI of the closest ancestor that exists (§11.5). */
  readonly ancestor?: string;
  /** uniqueness-failure: the node selector of the value that already exists, with alternatives (§11.6). */
  readonly exists?: { readonly field: string; readonly altValues?: readonly string[] };
}

/** A failed XCAP request: the route module answers `status` with this text, or with the 409 body. */
export class XcapError extends Error {
  constructor(
    readonly status: number,
    reason: string,
    readonly conflict?: XcapConflict,
    /** Extra response headers (Allow on 405, ETag on 412/304). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
    this.name = 'XcapError';
  }
}

/** A 409 with its error document. */
export function xcapConflict(tag: XcapConflictTag, phrase: string, extra: Omit<XcapConflict, 'tag' | 'phrase'> = {}): XcapError {
  return new XcapError(409, `${tag}: ${phrase}`, { tag, phrase, ...extra });
}

const NS = 'urn:ietf:params:xml:ns:xcap-error';

/** The `application/xcap-error+xml` document for a conflict (RFC 4825 §11.1). */
export function conflictDocument(c: XcapConflict): string {
  const inner: string[] = [];
  if (c.ancestor !== undefined) inner.push(`<ancestor>${escapeXml(c.ancestor)}</ancestor>`);
  if (c.exists) {
    const alts = (c.exists.altValues ?? []).map((v) => `<alt-value>${escapeXml(v)}</alt-value>`).join('');
    inner.push(`<exists field="${escapeXml(c.exists.field)}">${alts}</exists>`);
  }
  const open = `<${c.tag} phrase="${escapeXml(c.phrase)}"`;
  const element = inner.length === 0 ? `${open}/>` : `${open}>${inner.join('')}</${c.tag}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<xcap-error xmlns="${NS}">${element}</xcap-error>\n`;
}

/** Text safe inside XML content and quoted attribute values (the documents the server writes itself). */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * XCAP's XML bodies in and out (RFC 4825 §8.2.2): UTF-8 only, well-formed only, no DTD.
 * Parsing is @xmldom/xmldom's; this file only decides what it reports counts as malformed.
 */
import { DOMParser, XMLSerializer, type Document, type Node } from '@xmldom/xmldom';
import { xcapConflict } from './xcap-error.js';

/** A parse that is refused: the 409 conflict tag and phrase for it. */
type Refusal = { readonly tag: 'not-utf-8' | 'not-well-formed'; readonly phrase: string };

/** Characters XML 1.0 §2.2 does not allow anywhere in a document (xmldom lets them through). */
export const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** Where `&` and `]]>` are only characters: comments, CDATA sections, processing instructions (open, close). */
const UNCHECKED_SECTIONS: readonly (readonly [string, string])[] = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
];

/** The one xmldom warning that is not about malformed input: a U+FFFD written as valid UTF-8. */
const REPLACEMENT_WARNING = /Unicode replacement character/;

/**
 * Parses an XCAP XML body (a whole document, or an element put at a node selector).
 * @param body the request body's bytes
 * @param xmlns namespace bindings in force around the body (prefix → URI, '' for the default namespace, null for none), for an
 *   element that is parsed in the context of its parent in the document
 * @throws XcapError 409 `not-utf-8` when the bytes are not UTF-8 or the XML declaration names another encoding;
 *   409 `not-well-formed` for anything xmldom reports (fatal error, error or warning), for characters XML
 *   forbids, and for any DOCTYPE (refused before parsing: no external entity is read, no entity expanded)
 */
export function parseXml(body: Buffer, xmlns?: Readonly<Record<string, string | null>>): Document {
  const text = decodeUtf8(body);
  const refusal = checkText(text);
  if (refusal) throw xcapConflict(refusal.tag, refusal.phrase);
  let first: string | undefined;
  const parser = new DOMParser({
    locator: true,
    ...(xmlns ? { xmlns } : {}),
    onError(level, message) {
      if (level === 'warning' && REPLACEMENT_WARNING.test(message)) return;
      first ??= `${level}: ${message}`;
      throw new Error(first);
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (error) {
    const why = first ?? (error instanceof Error ? error.message : String(error));
    throw xcapConflict('not-well-formed', `not well-formed XML (${oneLine(why)})`);
  }
  if (first !== undefined) throw xcapConflict('not-well-formed', `not well-formed XML (${oneLine(first)})`);
  if (!doc.documentElement) throw xcapConflict('not-well-formed', 'not well-formed XML (no root element)');
  return doc;
}

/** Serializes a document or a node as XML text, the namespace declarations it needs included. */
export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

function decodeUtf8(body: Buffer): string {
  try {
    // fatal: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD; a UTF-8 BOM is dropped.
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw xcapConflict('not-utf-8', 'the body is not UTF-8 (RFC 4825 §8.2.2)');
  }
}

function checkText(text: string): Refusal | undefined {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return { tag: 'not-well-formed', phrase: `not well-formed XML (character U+${code} at offset ${bad.index} is not allowed in XML)` };
  }
  return checkProlog(text) ?? checkMarkup(text);
}

/** An entity or character reference, at `lastIndex`. */
const REFERENCE = /&(?:[^\s&;<>"'#]+|#[0-9]+|#x[0-9A-Fa-f]+);/y;

/**
 * What xmldom lets through: an `&` that starts no reference (XML 1.0 §2.4; xmldom keeps it as text), in
 * character data or in an attribute value, and `]]>` in character data. Comments, CDATA sections and processing
 * instructions are skipped. Each turn of a loop moves forward, and each piece of text is looked at once.
 */
function checkMarkup(text: string): Refusal | undefined {
  let at = 0;
  while (at < text.length) {
    const lt = text.indexOf('<', at);
    const dataEnd = lt < 0 ? text.length : lt;
    const data = text.slice(at, dataEnd);
    const cdataClose = data.indexOf(']]>');
    if (cdataClose >= 0) return malformed(`"]]>" at offset ${at + cdataClose} outside a CDATA section`);
    const inData = checkReferences(data, at);
    if (inData) return inData;
    if (lt < 0) return undefined;
    const section = UNCHECKED_SECTIONS.find(([open]) => text.startsWith(open, lt));
    if (section) {
      const [open, close] = section;
      const end = text.indexOf(close, lt + open.length);
      if (end < 0) return undefined; // unterminated: xmldom reports it
      at = end + close.length;
      continue;
    }
    // A tag: up to its '>', its quoted attribute values checked on the way.
    const stop = /[>"']/g;
    stop.lastIndex = lt + 1;
    for (;;) {
      const hit = stop.exec(text);
      if (!hit) return undefined; // unterminated: xmldom reports it
      if (hit[0] === '>') {
        at = hit.index + 1;
        break;
      }
      const close = text.indexOf(hit[0], hit.index + 1);
      if (close < 0) return undefined;
      const inValue = checkReferences(text.slice(hit.index + 1, close), hit.index + 1);
      if (inValue) return inValue;
      stop.lastIndex = close + 1;
    }
  }
  return undefined;
}

/** Every `&` in `segment` (which starts at `offset` in the body) must start a reference. */
function checkReferences(segment: string, offset: number): Refusal | undefined {
  for (let amp = segment.indexOf('&'); amp >= 0; amp = segment.indexOf('&', amp + 1)) {
    REFERENCE.lastIndex = amp;
    if (!REFERENCE.test(segment)) return malformed(`an "&" at offset ${offset + amp} starts no entity or character reference`);
  }
  return undefined;
}

function malformed(why: string): Refusal {
  return { tag: 'not-well-formed', phrase: `not well-formed XML (${why})` };
}

/**
 * Looks through the prolog (XML declaration, comments, processing instructions, white space) for a DOCTYPE and
 * for a declared encoding. A DOCTYPE can only stand there, so stopping at the first other markup is exact;
 * whatever else is wrong is xmldom's to find. Each turn of the loop moves past at least one character.
 */
function checkProlog(text: string): Refusal | undefined {
  let at = 0;
  while (at < text.length) {
    const ch = text[at];
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      at++;
    } else if (text.startsWith('<?', at)) {
      const end = text.indexOf('?>', at + 2);
      if (end < 0) return undefined;
      if (at === 0 && /^<\?xml[\s?]/.test(text)) {
        const encoding = /\sencoding\s*=\s*(["'])([^"']*)\1/.exec(text.slice(0, end));
        if (encoding && !/^utf-?8$/i.test(encoding[2] ?? '')) {
          return { tag: 'not-utf-8', phrase: `the XML declaration names encoding "${encoding[2]}"; XCAP documents are UTF-8` };
        }
      }
      at = end + 2;
    } else if (text.startsWith('<!--', at)) {
      const end = text.indexOf('-->', at + 4);
      if (end < 0) return undefined;
      at = end + 3;
    } else if (text.startsWith('<!DOCTYPE', at)) {
      return { tag: 'not-well-formed', phrase: 'a DOCTYPE was sent; DTDs are not accepted (no entities, internal or external)' };
    } else {
      return undefined;
    }
  }
  return undefined;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * The pieces of XML's grammar a node selector borrows (RFC 4825 §6.3): NCName and QName from Namespaces in
 * XML, AttValue's references from XML 1.0 §2.3 and §4.1.
 */
import { NOT_XML_CHAR } from '../xml.js';

/** XML 1.0 §2.3 NameStartChar without ':' (Namespaces in XML's NCName). */
const NC_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F' +
  '\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NC_CHAR = `${NC_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;

/** An NCName starting exactly at `lastIndex`. */
export const NCNAME_AT = new RegExp(`[${NC_START}][${NC_CHAR}]*`, 'uy');

const NCNAME = new RegExp(`^[${NC_START}][${NC_CHAR}]*$`, 'u');

/** Is `text` an NCName? */
export function isNcName(text: string): boolean {
  return NCNAME.test(text);
}

/** The XML namespace, bound to `xml` everywhere without a declaration. */
export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
/** The namespace of `xmlns` declarations, which are not attributes for a node selector. */
export const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/** Characters XML 1.0 §2.2 allows (the BMP part; astral characters are all allowed). */
const XML_CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]$/u;

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Decodes the text between an AttValue's quotes: the five predefined entities and character references.
 * @returns the value, or what is wrong and at which offset of `raw`
 */
export function decodeAttValue(raw: string): { value: string } | { error: string; at: number } {
  const bad = NOT_XML_CHAR.exec(raw);
  if (bad) return { error: `character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, at: bad.index };
  let value = '';
  let at = 0;
  while (at < raw.length) {
    const ch = raw[at] as string;
    if (ch === '<') return { error: 'a "<" must be written &lt;', at };
    if (ch !== '&') {
      value += ch;
      at++;
      continue;
    }
    const end = raw.indexOf(';', at);
    if (end < 0) return { error: 'an "&" starts no reference ending in ";"', at };
    const name = raw.slice(at + 1, end);
    const decoded = decodeReference(name);
    if (decoded === undefined) return { error: `"&${name};" is not a predefined entity or a character reference`, at };
    value += decoded;
    at = end + 1;
  }
  return { value };
}

function decodeReference(name: string): string | undefined {
  if (Object.hasOwn(PREDEFINED, name)) return PREDEFINED[name];
  const digits = /^#([0-9]{1,7})$/.exec(name)?.[1];
  const hex = /^#x([0-9A-Fa-f]{1,6})$/.exec(name)?.[1];
  const code = digits !== undefined ? Number.parseInt(digits, 10) : hex !== undefined ? Number.parseInt(hex, 16) : undefined;
  if (code === undefined || code > 0x10ffff) return undefined;
  const char = String.fromCodePoint(code);
  return XML_CHAR.test(char) ? char : undefined;
}

/** Writes `value` so that it reads back the same inside double quotes. */
export function encodeAttValue(value: string): string {
  return value.replace(/[&<"]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : '&quot;'));
}

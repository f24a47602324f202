/**
 * The query of an XCAP URI, RFC 4825 §6.4: `xmlns(p=urn:…)xmlns(q=…)`, XPointer's xmlns() scheme, binding the
 * prefixes a node selector uses. A pure parser (docs/design.md convention 1).
 */
import { XcapError } from '../xcap-error.js';
import { isNcName, XML_NAMESPACE, XMLNS_NAMESPACE } from './xml-names.js';

/**
 * Parses the namespace bindings of an XCAP request's query.
 * @param query the query component as sent, percent-encoded, with or without its leading `?`; empty for none.
 *   Each part is `xmlns(prefix=namespace)`; parts may be separated by white space; in the namespace `^(`, `^)`
 *   and `^^` stand for `(`, `)` and `^` (XPointer §3.1). A later part binding the same prefix wins. A part of
 *   another XPointer scheme (`scheme(data)`) is skipped: RFC 4825 §6.4 "A server compliant to this specification
 *   MUST ignore any xpointer expressions not from the xmlns() scheme".
 * @returns prefix → namespace URI; `xml` is always bound to the XML namespace
 * @throws XcapError 400 naming the offset and what was expected
 */
export function parseNamespaceBindings(query: string): ReadonlyMap<string, string> {
  const text = percentDecode(query.startsWith('?') ? query.slice(1) : query);
  const bindings = new Map<string, string>([['xml', XML_NAMESPACE]]);
  let at = 0;
  // Each turn consumes one xmlns(...) part or fails.
  while (at < text.length) {
    while (at < text.length && /\s/.test(text[at] as string)) at++;
    if (at >= text.length) break;
    if (!text.startsWith('xmlns(', at)) {
      at = skipOtherScheme(text, at);
      continue;
    }
    at += 'xmlns('.length;
    const eq = text.indexOf('=', at);
    if (eq < 0) throw bad(at, 'expected "prefix=namespace"');
    const prefix = text.slice(at, eq).trim();
    if (!isNcName(prefix)) throw bad(at, `"${prefix}" is not an NCName`);
    at = eq + 1;
    let namespace = '';
    for (;;) {
      const ch = text[at];
      if (ch === undefined) throw bad(at, 'expected ")" closing xmlns(');
      if (ch === ')') break;
      if (ch === '(') throw bad(at, 'an unbalanced "(" must be written "^("');
      if (ch === '^') {
        const next = text[at + 1];
        if (next !== '(' && next !== ')' && next !== '^') throw bad(at, 'a "^" must be followed by "(", ")" or "^"');
        namespace += next;
        at += 2;
        continue;
      }
      namespace += ch;
      at++;
    }
    at++; // the ')'
    namespace = namespace.trim();
    if (namespace === '') throw bad(at - 1, `prefix "${prefix}" is bound to an empty namespace name`);
    if (prefix === 'xmlns') throw bad(at - 1, 'the prefix "xmlns" cannot be bound');
    if (prefix === 'xml' && namespace !== XML_NAMESPACE) throw bad(at - 1, `the prefix "xml" can only be bound to ${XML_NAMESPACE}`);
    if (namespace === XMLNS_NAMESPACE) throw bad(at - 1, `no prefix can be bound to ${XMLNS_NAMESPACE}`);
    bindings.set(prefix, namespace);
  }
  return bindings;
}

/**
 * Skips a pointer part of another scheme, XPointer §3.1: `SchemeName(SchemeData)`, the data's parentheses
 * balanced unless escaped with `^`.
 * @returns the offset after its closing `)`
 */
function skipOtherScheme(text: string, start: number): number {
  const name = /[^\s()^]+(?=\()/y;
  name.lastIndex = start;
  const scheme = name.exec(text)?.[0];
  if (scheme === undefined || !scheme.split(':').every(isNcName) || scheme.split(':').length > 2) {
    throw bad(start, 'expected "xmlns(" or another XPointer scheme "name(…)"');
  }
  let at = start + scheme.length + 1;
  // Each turn consumes at least one character; the depth returns to 0 at the part's closing ')'.
  for (let depth = 1; depth > 0; ) {
    const ch = text[at];
    if (ch === undefined) throw bad(at, `expected ")" closing ${scheme}(`);
    if (ch === '^') {
      const next = text[at + 1];
      if (next !== '(' && next !== ')' && next !== '^') throw bad(at, 'a "^" must be followed by "(", ")" or "^"');
      at += 2;
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    at++;
  }
  return at;
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new XcapError(400, 'bad namespace bindings in the query: a "%" escape is not valid UTF-8');
  }
}

function bad(at: number, what: string): XcapError {
  return new XcapError(400, `bad namespace bindings in the query at offset ${at} (after percent-decoding): ${what}`);
}

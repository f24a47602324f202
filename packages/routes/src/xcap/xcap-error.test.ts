/**
 * The conflict report (RFC 4825 §11): conflictDocument's output read back and compared with §11.1's example
 * document, and the schema's shape of §11.2 (one error element in <xcap-error>, its optional phrase, <ancestor>).
 */
import { describe, expect, it } from 'vitest';
import type { Element, Node } from '@xmldom/xmldom';
import { parseXml } from './xml.js';
import { conflictDocument } from './xcap-error.js';

const NS = 'urn:ietf:params:xml:ns:xcap-error';

/** The element tree without the phrase attributes and the white space between elements, to compare shapes. */
function shape(node: Node): unknown {
  if (node.nodeType === 3) return (node.nodeValue ?? '').trim() === '' ? undefined : node.nodeValue;
  const el = node as Element;
  const attributes: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i)!;
    if (a.name !== 'phrase' && a.name !== 'xmlns') attributes[a.name] = a.value;
  }
  const children: unknown[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) {
    const s = shape(c);
    if (s !== undefined) children.push(s);
  }
  return { ns: el.namespaceURI, name: el.localName, attributes, children };
}

describe('RFC 4825 §11: Detailed Conflict Reports', () => {
  it('"the following document indicates that the user attempted to create an RLS service using the URI sip:friends@example.com, but that URI already exists"', () => {
    const RFC_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error">
 <uniqueness-failure>
  <exists field="rls-services/service/@uri">
    <alt-value>sip:mybuddies@example.com</alt-value>
  </exists>
 </uniqueness-failure>
</xcap-error>`;
    const ours = conflictDocument({
      tag: 'uniqueness-failure',
      phrase: 'the uri "sip:friends@example.com" of <service> is already used',
      exists: { field: 'rls-services/service/@uri', altValues: ['sip:mybuddies@example.com'] },
    });
    expect(ours.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    const doc = parseXml(Buffer.from(ours));
    expect(shape(doc.documentElement!)).toEqual(shape(parseXml(Buffer.from(RFC_EXAMPLE)).documentElement!));
    // §11.1: 'All error elements support a "phrase" attribute, which can contain text meant for rendering'.
    expect(doc.getElementsByTagNameNS(NS, 'uniqueness-failure').item(0)?.getAttribute('phrase')).toBe('the uri "sip:friends@example.com" of <service> is already used');
  });

  it('<no-parent> "can contain an optional <ancestor> element, which provides an HTTP URI that represents the closest parent"', () => {
    const doc = parseXml(Buffer.from(conflictDocument({ tag: 'no-parent', phrase: 'p', ancestor: 'http://xcap.example.com/rls-services/users/sip:bill@example.com/index/~~/rls-services' })));
    expect(shape(doc.documentElement!)).toEqual({
      ns: NS,
      name: 'xcap-error',
      attributes: {},
      children: [{ ns: NS, name: 'no-parent', attributes: {}, children: [{ ns: NS, name: 'ancestor', attributes: {}, children: ['http://xcap.example.com/rls-services/users/sip:bill@example.com/index/~~/rls-services'] }] }],
    });
  });

  it.each(['not-well-formed', 'not-xml-frag', 'not-xml-att-value', 'schema-validation-error', 'cannot-insert', 'cannot-delete', 'constraint-failure', 'not-utf-8'] as const)(
    '<%s phrase="…"/> is the one error element of <xcap-error> (§11.2)',
    (tag) => {
      const doc = parseXml(Buffer.from(conflictDocument({ tag, phrase: 'why & <how>' })));
      const root = doc.documentElement!;
      expect([root.namespaceURI, root.localName]).toEqual([NS, 'xcap-error']);
      const error = root.firstChild as Element;
      expect([error.namespaceURI, error.localName, error.getAttribute('phrase'), error.nextSibling]).toEqual([NS, tag, 'why & <how>', null]);
    },
  );
});

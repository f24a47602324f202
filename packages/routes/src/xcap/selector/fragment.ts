/**
 * The bodies of element, attribute and namespace resources (RFC 4825 §7, §8.2.2, §8.3): an element is read and
 * written as it stands in the document, in its parent's namespace context, so that what a client PUTs is what
 * it GETs back (§7: GET(PUT(x)) == x).
 */
import type { Document, Element, Node } from '@xmldom/xmldom';
import { xcapConflict, XcapError } from '../xcap-error.js';
import { parseXml, serializeXml } from '../xml.js';
import { encodeAttValue, XML_NAMESPACE, XMLNS_NAMESPACE } from './xml-names.js';
import { elementChildren } from './evaluate.js';

/** Content types of the three kinds of node (RFC 4825 §15.2.1–§15.2.3). */
export const XCAP_ELEMENT_TYPE = 'application/xcap-el+xml';
export const XCAP_ATTRIBUTE_TYPE = 'application/xcap-att+xml';
export const XCAP_NAMESPACE_TYPE = 'application/xcap-ns+xml';

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const PROCESSING_INSTRUCTION_NODE = 7;

/**
 * The namespace bindings in force at `node` (prefix → URI, '' for the default namespace; an undeclared default
 * is absent), nearest declaration first. `xml` is left out: it is bound everywhere.
 */
export function inScopeNamespaces(node: Node | null): Map<string, string> {
  const bindings = new Map<string, string>();
  const undeclared = new Set<string>();
  for (let at: Node | null = node; at && at.nodeType === ELEMENT_NODE; at = at.parentNode) {
    const attributes = (at as Element).attributes;
    for (let i = 0; i < attributes.length; i++) {
      const attr = attributes.item(i);
      if (!attr || attr.namespaceURI !== XMLNS_NAMESPACE) continue;
      const prefix = attr.prefix === 'xmlns' ? (attr.localName ?? '') : '';
      if (bindings.has(prefix) || undeclared.has(prefix)) continue;
      if (attr.value === '') undeclared.add(prefix);
      else bindings.set(prefix, attr.value);
    }
  }
  bindings.delete('xml');
  return bindings;
}

/**
 * An element as it stands in its document, without the namespace declarations it inherits from its ancestors
 * (RFC 4825 §8.3: the server must not add them). The serializer is given a wrapper that declares them, and
 * the wrapper's tags are cut off again.
 */
export function serializeElement(element: Element): string {
  const doc = element.ownerDocument;
  if (!doc) return serializeXml(element);
  const wrapper = doc.createElementNS(null, 'xcap-wrapper');
  for (const [prefix, uri] of inScopeNamespaces(element.parentNode)) {
    wrapper.setAttributeNS(XMLNS_NAMESPACE, prefix === '' ? 'xmlns' : `xmlns:${prefix}`, uri);
  }
  const empty = serializeXml(wrapper);
  wrapper.appendChild(element.cloneNode(true));
  const full = serializeXml(wrapper);
  const open = `${empty.slice(0, -2)}>`;
  const close = '</xcap-wrapper>';
  if (!empty.endsWith('/>') || !full.startsWith(open) || !full.endsWith(close)) {
    // Cannot happen with xmldom's serializer; serialize on its own rather than send a broken body.
    return serializeXml(element);
  }
  return full.slice(open.length, full.length - close.length);
}

/**
 * The `application/xcap-ns+xml` body (RFC 4825 §7.10, §8.3, §10): "a single XML element" with "the same
 * local-name as the element whose namespace bindings are desired, and also the same namespace-prefix", an
 * `xmlns` attribute for the default namespace in scope and an `xmlns:prefix` for each prefix in scope.
 */
export function namespaceBindingsBody(element: Element): string {
  // The default namespace first, as in §10's example: <baz xmlns="…" xmlns:ns1="…"/>.
  const declarations = [...inScopeNamespaces(element)]
    .sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : 0))
    .map(([prefix, uri]) => ` ${prefix === '' ? 'xmlns' : `xmlns:${prefix}`}="${encodeAttValue(uri)}"`)
    .join('');
  return `<${element.nodeName}${declarations}/>`;
}

/**
 * Reads the body of a PUT to an element (RFC 4825 §8.2.2): one element, well-balanced, parsed in the
 * namespace context of `parent` so that unprefixed names take the document's default namespace there.
 * @returns the element, imported into `doc`
 * @throws XcapError 409 not-utf-8, or 409 not-xml-frag for anything but a single well-formed element
 */
export function parseElementBody(body: Buffer, doc: Document, parent: Node): Element {
  const context: Record<string, string | null> = {};
  for (const [prefix, uri] of inScopeNamespaces(parent)) context[prefix] = uri;
  let fragment: Document;
  try {
    fragment = parseXml(body, context);
  } catch (error) {
    if (error instanceof XcapError && error.conflict?.tag === 'not-well-formed') {
      throw xcapConflict('not-xml-frag', `the body is not one well-balanced XML element: ${error.conflict.phrase}`);
    }
    throw error;
  }
  for (let child = fragment.firstChild; child; child = child.nextSibling) {
    const isDeclaration = child.nodeType === PROCESSING_INSTRUCTION_NODE && child.nodeName === 'xml';
    const isWhiteSpace = child.nodeType === TEXT_NODE && /^[ \t\r\n]*$/.test(child.nodeValue ?? '');
    if (child.nodeType !== ELEMENT_NODE && !isDeclaration && !isWhiteSpace) {
      throw xcapConflict('not-xml-frag', 'the body must be one XML element, with nothing but white space around it');
    }
  }
  const root = elementChildren(fragment)[0];
  if (!root) throw xcapConflict('not-xml-frag', 'the body holds no element');
  return doc.importNode(root, true);
}

/**
 * Reads the body of a PUT to an attribute (RFC 4825 §7.7: "The content defined by the request MUST be the value
 * of the attribute, compliant to the grammar for AttValue as defined in XML 1.0", quotes included, as in §7.7's
 * example body `"sip:bad-friends@example.com"`). A body without the quotes is read as the text between them:
 * the bare value that OpenXCAP and the clients written for it send.
 * @returns the attribute's value, references decoded
 * @throws XcapError 409 not-utf-8, or 409 not-xml-att-value (a `<`, a bare `&`, an unknown entity, the quote
 *   inside the value)
 */
export function parseAttributeBody(body: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw xcapConflict('not-utf-8', 'the body is not UTF-8 (RFC 4825 §8.2.2)');
  }
  const first = text[0];
  const quoted = text.length >= 2 && (first === '"' || first === "'") && text.endsWith(first);
  const inner = quoted ? text.slice(1, -1) : text;
  const hasDouble = inner.includes('"');
  if (quoted && inner.includes(first)) {
    throw xcapConflict('not-xml-att-value', `an AttValue quoted with ${first} cannot hold ${first} unescaped; write it as ${first === '"' ? '&quot;' : '&apos;'}`);
  }
  if (!quoted && hasDouble && inner.includes("'")) {
    throw xcapConflict('not-xml-att-value', 'an attribute value cannot hold both kinds of quote unescaped; write " as &quot;');
  }
  // The value is read by xmldom as an attribute of a one-element document, quoted with a quote it lacks.
  const quote = hasDouble ? "'" : '"';
  try {
    const doc = parseXml(Buffer.from(`<v a=${quote}${inner}${quote}/>`, 'utf8'));
    return doc.documentElement?.getAttribute('a') ?? '';
  } catch (error) {
    const why = error instanceof XcapError ? (error.conflict?.phrase ?? error.message) : String(error);
    throw xcapConflict('not-xml-att-value', `the body is not an XML attribute value: ${why}`);
  }
}

/**
 * The `application/xcap-att+xml` body of an attribute: its value as an AttValue, in double quotes (RFC 4825
 * §7.9 "formatted according to the grammar of AttValue"; §13 Figure 32 answers `"sip:nancy@example.com"`).
 */
export function attributeBody(value: string): string {
  return `"${encodeAttValue(value)}"`;
}

/** A prefix under which `namespace` can be written on `element`: one already bound to it there, or a new one. */
export function prefixFor(element: Element, namespace: string, wanted: string | null): { prefix: string; declare: boolean } {
  if (namespace === XML_NAMESPACE) return { prefix: 'xml', declare: false };
  const scope = inScopeNamespaces(element);
  for (const [prefix, uri] of scope) if (prefix !== '' && uri === namespace) return { prefix, declare: false };
  if (wanted !== null && wanted !== '' && !scope.has(wanted)) return { prefix: wanted, declare: true };
  // A fresh one; there are fewer bindings in scope than candidates tried, so this ends.
  for (let n = 0; ; n++) if (!scope.has(`ns${n}`)) return { prefix: `ns${n}`, declare: true };
}

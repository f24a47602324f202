/**
 * The checks usages share: the root element, required attributes, and "unique among siblings" constraints
 * (RFC 4826 §3.4.5, RFC 4825 §11.6's uniqueness-failure).
 */
import type { Document, Element } from '@xmldom/xmldom';
import { encodeSelector } from '../uri.js';
import { xcapConflict } from '../xcap-error.js';
import { elementChildren, freeAlternative, isElement, selectorTo, type XcapUsage } from './usage.js';

/** The root element must be the usage's (RFC 4825 §8.2.1: schema validation). */
export function checkRoot(doc: Document, usage: Pick<XcapUsage, 'namespace' | 'rootElement' | 'auid'>): Element {
  const root = doc.documentElement!;
  if (!isElement(root, usage.namespace, usage.rootElement)) {
    const got = root.namespaceURI ? `{${root.namespaceURI}}${root.localName}` : root.localName;
    throw xcapConflict('schema-validation-error', `${usage.auid} documents have the root element <${usage.rootElement}> in ${usage.namespace}, got <${got}>`);
  }
  return root;
}

/** An element of the schema must carry `name`. */
export function requireAttribute(el: Element, name: string): string {
  const value = el.getAttribute(name);
  if (value === null) throw xcapConflict('schema-validation-error', `<${el.localName}> must have a ${name} attribute`);
  return value;
}

/**
 * Among the children of `parent` that are `{ns}name`, the attribute `attribute` must be unique: a duplicate is a
 * 409 uniqueness-failure whose `field` selects the duplicate's attribute; `offerAlternative` adds an alt-value.
 */
export function checkUniqueAmongSiblings(parent: Element, ns: string, name: string, attribute: string, defaultNs: string, offerAlternative = false): void {
  const seen = new Set<string>();
  for (const child of elementChildren(parent)) {
    if (!isElement(child, ns, name)) continue;
    const value = child.getAttribute(attribute);
    if (value === null) continue;
    if (seen.has(value)) {
      const altValues = offerAlternative ? [freeAlternative(value, seen)] : [];
      throw xcapConflict('uniqueness-failure', `the ${attribute} "${value}" of <${name}> is already used by a sibling`, {
        // RFC 4825 §11.1: the field "is a valid HTTP URI, it MUST be percent-encoded".
        exists: { field: encodeSelector(`${selectorTo(child, defaultNs)}/@${attribute}`), altValues },
      });
    }
    seen.add(value);
  }
}

/** Every element of the document that is `{ns}name`, in document order. */
export function descendants(root: Element, ns: string, name: string): Element[] {
  const out: Element[] = [];
  const walk = (el: Element): void => {
    if (isElement(el, ns, name)) out.push(el);
    for (const child of elementChildren(el)) walk(child);
  };
  walk(root);
  return out;
}

/** Is `text` an absolute http or https URI? */
export function isHttpUri(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Is `text` a URI of any scheme (RFC 3986 absolute form: `sip:bob@example.com`, `tel:+1…`)? */
export function isAbsoluteUri(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(text);
}

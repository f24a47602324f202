/**
 * The resource-lists application usage (RFC 4826 §3): contact lists. Besides the schema's shape, §3.4.5's
 * constraints: within one parent, list names, entry URIs, entry-ref refs and external anchors are unique; a ref
 * is a relative path from the XCAP root, an anchor an absolute HTTP URI.
 */
import type { Element } from '@xmldom/xmldom';
import { xcapConflict } from '../xcap-error.js';
import { checkRoot, checkUniqueAmongSiblings, isHttpUri, requireAttribute } from './checks.js';
import { elementChildren, type XcapUsage } from './usage.js';

export const RESOURCE_LISTS_NS = 'urn:ietf:params:xml:ns:resource-lists';

const LIST_MEMBERS = new Set(['list', 'external', 'entry', 'entry-ref']);
/** The one unqualified attribute §3.2's schema gives each list member besides <list>'s name. */
const MEMBER_ATTRIBUTE: Readonly<Record<string, string>> = { entry: 'uri', 'entry-ref': 'ref', external: 'anchor' };
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/**
 * RFC 4826 §3.2: each type lists its unqualified attributes and has `<xs:anyAttribute namespace="##other"/>`, so
 * any other unqualified attribute, or one in the resource-lists namespace, fails the schema.
 */
function checkAttributes(el: Element, allowed: readonly string[]): void {
  for (let i = 0; i < el.attributes.length; i++) {
    const attr = el.attributes.item(i)!;
    const ns = attr.namespaceURI ?? '';
    if (ns === XMLNS_NS) continue; // a namespace declaration, not an attribute
    if (ns === '' ? !allowed.includes(attr.localName ?? attr.name) : ns === RESOURCE_LISTS_NS) {
      throw xcapConflict('schema-validation-error', `<${el.localName}> has no attribute ${attr.name} (RFC 4826 §3.2; attributes of other namespaces are allowed)`);
    }
  }
}

export const resourceListsUsage: XcapUsage = {
  auid: 'resource-lists',
  mimeType: 'application/resource-lists+xml',
  namespace: RESOURCE_LISTS_NS,
  rootElement: 'resource-lists',
  validate(doc) {
    const root = checkRoot(doc, resourceListsUsage);
    checkAttributes(root, []);
    for (const child of elementChildren(root)) {
      if (child.namespaceURI !== RESOURCE_LISTS_NS || child.localName !== 'list') {
        throw xcapConflict('schema-validation-error', `<resource-lists> holds only <list> elements, got <${child.nodeName}>`);
      }
      checkList(child);
    }
    checkUniqueNames(root);
  },
};

/** A <list>: an optional display-name first, then lists, externals, entries, entry-refs and other namespaces' elements. */
export function checkList(list: Element): void {
  checkAttributes(list, ['name']);
  let other = false;
  elementChildren(list).forEach((child, i) => {
    if (child.namespaceURI !== RESOURCE_LISTS_NS) {
      other = true; // xs:any namespace="##other", which ends the sequence
      return;
    }
    const name = child.localName!;
    if (other) throw xcapConflict('schema-validation-error', `<${name}> cannot follow an element of another namespace in a <list> (RFC 4826 §3.2)`);
    if (name === 'display-name') {
      if (i !== 0) throw xcapConflict('schema-validation-error', '<display-name> must come first in a <list>, once');
      checkDisplayName(child);
      return;
    }
    if (!LIST_MEMBERS.has(name)) throw xcapConflict('schema-validation-error', `<${name}> is not allowed in a <list>`);
    if (name === 'list') return checkList(child);
    if (name !== 'list') checkAttributes(child, [MEMBER_ATTRIBUTE[name]!]);
    if (name === 'entry') {
      requireAttribute(child, 'uri');
      checkDisplayNameOnly(child);
    } else if (name === 'entry-ref') {
      const ref = requireAttribute(child, 'ref');
      // §3.4.5: relative to the XCAP root: no scheme (before the first '/'), no leading '/'.
      if (ref === '' || ref.startsWith('/') || ref.split('/')[0]!.includes(':')) {
        throw xcapConflict('constraint-failure', `the ref "${ref}" of <entry-ref> must be a relative path from the XCAP root`);
      }
      checkDisplayNameOnly(child);
    } else {
      const anchor = child.getAttribute('anchor');
      if (anchor !== null && !isHttpUri(anchor)) throw xcapConflict('constraint-failure', `the anchor "${anchor}" of <external> must be an absolute HTTP URI`);
      checkDisplayNameOnly(child);
    }
  });
  checkUniqueNames(list);
}

/** entry, entry-ref and external hold an optional display-name and other namespaces' elements. */
function checkDisplayNameOnly(el: Element): void {
  elementChildren(el).forEach((child, i) => {
    if (child.namespaceURI !== RESOURCE_LISTS_NS) return;
    if (child.localName !== 'display-name' || i !== 0) {
      throw xcapConflict('schema-validation-error', `<${el.localName}> holds one <display-name> first and other namespaces' elements, got <${child.localName}>`);
    }
    checkDisplayName(child);
  });
}

/** display-nameType is simple content: text and an xml:lang, no elements (RFC 4826 §3.2). */
function checkDisplayName(el: Element): void {
  if (elementChildren(el).length > 0) throw xcapConflict('schema-validation-error', '<display-name> holds text only');
  checkAttributes(el, []);
}

function checkUniqueNames(parent: Element): void {
  checkUniqueAmongSiblings(parent, RESOURCE_LISTS_NS, 'list', 'name', RESOURCE_LISTS_NS, true);
  checkUniqueAmongSiblings(parent, RESOURCE_LISTS_NS, 'entry', 'uri', RESOURCE_LISTS_NS);
  checkUniqueAmongSiblings(parent, RESOURCE_LISTS_NS, 'entry-ref', 'ref', RESOURCE_LISTS_NS);
  checkUniqueAmongSiblings(parent, RESOURCE_LISTS_NS, 'external', 'anchor', RESOURCE_LISTS_NS);
}

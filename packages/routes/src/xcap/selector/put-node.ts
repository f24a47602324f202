/**
 * PUT of an element or an attribute (RFC 4825 §8.2): locate the parent (§8.2.1), check the body (§8.2.2),
 * insert (§8.2.3) or replace in place (§8.2.4), then check that the node selector selects exactly what was
 * put (§8.2.3, §8.2.4: otherwise 409 cannot-insert), undoing the change when it does not.
 */
import type { Document, Element, Node } from '@xmldom/xmldom';
import { xcapConflict, XcapError } from '../xcap-error.js';
import { attributeNode, elementChildren, evaluateSteps, passesNameTest, selectElements } from './evaluate.js';
import { parseAttributeBody, parseElementBody, prefixFor, XCAP_ATTRIBUTE_TYPE, XCAP_ELEMENT_TYPE } from './fragment.js';
import type { NodeSelector, QName, Step } from './node-selector.js';
import { closestAncestor, namespaceWriteRefused, stepsText } from './selection.js';
import { XMLNS_NAMESPACE } from './xml-names.js';

/** Makes the HTTP URI of an ancestor from its node selector ('' for the document itself), for 409 no-parent. */
export type AncestorUri = (selectorPrefix: string) => string;

/**
 * Puts the request body at the node `sel` selects, changing `doc` in place (and leaving it as it was when it
 * throws).
 * @param defaultNs the application usage's default namespace, that of the selector's unprefixed element names
 * @param contentType the request's Content-Type: `application/xcap-el+xml` for an element,
 *   `application/xcap-att+xml` for an attribute (parameters ignored)
 * @param ancestorUri the HTTP URI of a node selector's ancestor, for the `<ancestor>` of a 409 no-parent
 * @returns whether the node was created (201) rather than replaced (200)
 * @throws XcapError 404 when the selector's last step matches several elements; 405 (Allow: GET) for namespace::*;
 *   409 no-parent (the parent selector is a no-match, or one of its steps matches several elements: §8.2.1);
 *   415 for another content type; 409 not-utf-8, not-xml-frag, not-xml-att-value;
 *   409 cannot-insert when the node cannot be placed so that the selector selects it
 */
export function putNode(
  doc: Document,
  sel: NodeSelector,
  defaultNs: string,
  body: Buffer,
  contentType: string,
  ancestorUri: AncestorUri,
): { created: boolean } {
  const terminal = sel.terminal;
  if (terminal?.kind === 'namespace') throw namespaceWriteRefused('PUT');
  if (terminal) return putAttribute(doc, sel, terminal.name, defaultNs, body, contentType, ancestorUri);
  return putElement(doc, sel, defaultNs, body, contentType, ancestorUri);
}

function putElement(doc: Document, sel: NodeSelector, defaultNs: string, body: Buffer, contentType: string, ancestorUri: AncestorUri) {
  const steps = sel.steps;
  const last = steps[steps.length - 1] as Step;
  const parentSteps = steps.slice(0, -1);
  const evaluated = evaluateSteps(doc, steps, defaultNs);
  const existing = evaluated.taken === steps.length ? evaluated.elements : [];
  if (existing.length > 1) {
    throw new XcapError(404, `"${sel.text}" matches ${existing.length} elements; a node selector must select one (add a position or an attribute test)`);
  }
  const target = existing[0];
  let parent: Node;
  if (target) {
    parent = target.parentNode as Node;
  } else if (parentSteps.length === 0) {
    const root = doc.documentElement;
    throw xcapConflict('cannot-insert', `"${last.text}" does not match the root element <${root?.nodeName ?? ''}>, and a document has only one root element`);
  } else {
    const parents = selectElements(doc, parentSteps, defaultNs);
    const [only] = parents;
    if (!only || parents.length > 1) throw noParent(doc, parentSteps, defaultNs, ancestorUri);
    parent = only;
  }
  requireContentType(contentType, XCAP_ELEMENT_TYPE, 'an element');
  const element = parseElementBody(body, doc, parent);
  let undo: () => void;
  if (target) {
    parent.replaceChild(element, target); // §8.2.4: in place
    undo = () => parent.replaceChild(target, element);
  } else {
    insertElement(parent, element, last, defaultNs);
    undo = () => parent.removeChild(element);
  }
  const now = selectElements(doc, steps, defaultNs);
  if (now.length !== 1 || now[0] !== element) {
    undo();
    throw xcapConflict(
      'cannot-insert',
      `after the PUT, "${sel.text}" would not select the element that was put (<${element.nodeName}>); ` +
        "the element's name, position and attribute must match the node selector",
    );
  }
  return { created: !target };
}

/**
 * §8.2.3: with a position n, the new element becomes the n-th child that passes the step's name test, right
 * after the (n-1)-th (there must be that many already) or right before the first; without a position, it goes
 * right after the last sibling of its own name. With no such sibling it becomes the parent's last child.
 */
function insertElement(parent: Node, element: Element, step: Step, defaultNs: string): void {
  const siblings = elementChildren(parent);
  let after: Element | undefined;
  if (step.position !== undefined) {
    const passing = siblings.filter((sibling) => passesNameTest(sibling, step, defaultNs));
    const n = step.position;
    if (n < 1 || n > passing.length + 1) {
      throw xcapConflict(
        'cannot-insert',
        `position ${n} in "${step.text}": the parent has ${passing.length} such children, ` +
          `so a new one can only be number 1 to ${passing.length + 1}`,
      );
    }
    const first = passing[0];
    if (n === 1 && first) {
      parent.insertBefore(element, first);
      return;
    }
    after = passing[n - 2];
  } else {
    const sameName = siblings.filter((s) => s.localName === element.localName && s.namespaceURI === element.namespaceURI);
    after = sameName[sameName.length - 1];
  }
  if (after) parent.insertBefore(element, after.nextSibling);
  else parent.appendChild(element);
}

function putAttribute(
  doc: Document,
  sel: NodeSelector,
  name: QName,
  defaultNs: string,
  body: Buffer,
  contentType: string,
  ancestorUri: AncestorUri,
) {
  const elements = selectElements(doc, sel.steps, defaultNs);
  const [element] = elements;
  if (!element || elements.length > 1) throw noParent(doc, sel.steps, defaultNs, ancestorUri);
  requireContentType(contentType, XCAP_ATTRIBUTE_TYPE, 'an attribute');
  const value = parseAttributeBody(body);
  if (name.namespace === null && name.localName === 'xmlns') {
    throw xcapConflict('cannot-insert', '"xmlns" is a namespace declaration, not an attribute; it cannot be put');
  }
  const old = attributeNode(element, name);
  let undo: () => void;
  if (old) {
    const oldValue = old.value;
    element.setAttributeNS(old.namespaceURI, old.name, value); // §8.2.4: the same attribute, its value replaced
    undo = () => element.setAttributeNS(old.namespaceURI, old.name, oldValue);
  } else if (name.namespace === null) {
    element.setAttributeNS(null, name.localName, value);
    undo = () => element.removeAttributeNS(null, name.localName);
  } else {
    const namespace = name.namespace;
    const { prefix, declare } = prefixFor(element, namespace, name.prefix);
    if (declare) element.setAttributeNS(XMLNS_NAMESPACE, `xmlns:${prefix}`, namespace);
    element.setAttributeNS(namespace, `${prefix}:${name.localName}`, value);
    undo = () => {
      element.removeAttributeNS(namespace, name.localName);
      if (declare) element.removeAttributeNS(XMLNS_NAMESPACE, prefix);
    };
  }
  const now = selectElements(doc, sel.steps, defaultNs);
  if (now.length !== 1 || now[0] !== element || attributeNode(element, name)?.value !== value) {
    undo();
    throw xcapConflict(
      'cannot-insert',
      `after the PUT, "${sel.text}" would not select the attribute that was put ` +
        '(the new value changes what the element selector matches)',
    );
  }
  return { created: !old };
}

/** RFC 4825 §8.2.1: the parent selector is a no-match or invalid (a step selects several elements). */
function noParent(doc: Document, parentSteps: readonly Step[], defaultNs: string, ancestorUri: AncestorUri): XcapError {
  const { elements } = evaluateSteps(doc, parentSteps, defaultNs);
  const found = elements.length;
  const why = found === 0 ? 'does not exist' : `matches ${found} elements`;
  return xcapConflict('no-parent', `the parent "${stepsText(parentSteps)}" ${why}`, {
    ancestor: ancestorUri(closestAncestor(doc, parentSteps, defaultNs)),
  });
}

function requireContentType(contentType: string, wanted: string, what: string): void {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (mediaType !== wanted) {
    throw new XcapError(415, `a PUT of ${what} needs Content-Type: ${wanted} (got "${contentType}")`);
  }
}

/**
 * Evaluates a node selector's steps against a document (RFC 4825 §6.3): each step selects, among the element
 * children of the one element the previous step selected, those that pass its name test, then the one at its
 * position, then those that pass its attribute test. The first step starts from the document node, so it names
 * the root.
 */
import type { Attr, Document, Element, Node } from '@xmldom/xmldom';
import type { QName, Step } from './node-selector.js';

const ELEMENT_NODE = 1;

/** The element children of a document or element, in document order. */
export function elementChildren(parent: Node): Element[] {
  const children: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType === ELEMENT_NODE) children.push(child as Element);
  }
  return children;
}

/**
 * The elements `steps` select in `doc`, in document order: none when an earlier step does not select exactly
 * one element (RFC 4825 §6.3: "Each step in a node selector MUST produce a single element to form the context
 * for the next step"). The last step may select several; the caller decides what that means.
 */
export function selectElements(doc: Document, steps: readonly Step[], defaultNs: string): Element[] {
  const { taken, elements } = evaluateSteps(doc, steps, defaultNs);
  return taken === steps.length ? elements : [];
}

/**
 * Evaluates `steps` one after the other from the document node (RFC 4825 §6.3), stopping at the first step that
 * selects no element or several, since it cannot be the context of the next one.
 * @returns how many steps were taken and what the last one taken selected (all of `steps` when every step but
 *   the last selected exactly one element)
 */
export function evaluateSteps(doc: Document, steps: readonly Step[], defaultNs: string): { taken: number; elements: Element[] } {
  let context: Node = doc;
  let elements: Element[] = [];
  for (let k = 0; k < steps.length; k++) {
    elements = stepFrom(context, steps[k] as Step, defaultNs);
    if (elements.length !== 1 || k === steps.length - 1) return { taken: k + 1, elements };
    context = elements[0] as Element;
  }
  return { taken: 0, elements };
}

/** The children of `parent` that `step` selects. */
export function stepFrom(parent: Node, step: Step, defaultNs: string): Element[] {
  let found = elementChildren(parent).filter((child) => passesNameTest(child, step, defaultNs));
  if (step.position !== undefined) {
    const at = found[step.position - 1];
    found = at ? [at] : [];
  }
  const test = step.attribute;
  if (test) found = found.filter((child) => attributeNode(child, test.name)?.value === test.value);
  return found;
}

/** Does `element` pass the step's name test (`*` passes every element)? */
export function passesNameTest(element: Element, step: Step, defaultNs: string): boolean {
  return step.name === '*' || isElementNamed(element, step.name, defaultNs);
}

/** Is `element` the expanded name `name` stands for, unprefixed names being in `defaultNs`? */
export function isElementNamed(element: Element, name: QName, defaultNs: string): boolean {
  const namespace = name.prefix === null ? defaultNs || null : name.namespace;
  return element.localName === name.localName && (element.namespaceURI ?? null) === namespace;
}

/** The attribute `name` stands for on `element` (unprefixed: no namespace); namespace declarations are not attributes. */
export function attributeNode(element: Element, name: QName): Attr | null {
  return element.getAttributeNodeNS(name.namespace, name.localName);
}

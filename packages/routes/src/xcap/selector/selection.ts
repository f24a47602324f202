/**
 * What the three verbs share when they look a node selector up: exactly one element, or a 404 saying why; the
 * closest ancestor that exists, for a 409 no-parent; the 405 for namespace bindings, which are read-only.
 */
import type { Document, Element } from '@xmldom/xmldom';
import { XcapError } from '../xcap-error.js';
import { evaluateSteps } from './evaluate.js';
import type { NodeSelector, Step } from './node-selector.js';

/** The steps as written, joined: the node selector of an ancestor. */
export function stepsText(steps: readonly Step[]): string {
  return steps.map((step) => step.text).join('/');
}

/**
 * The one element `steps` select.
 * @throws XcapError 404 when a step selects none, or more than one (RFC 4825 §6.3: "The node selector is only
 *   valid if a single element was selected"; §8.3: no-match or invalid is a 404)
 */
export function selectOne(doc: Document, steps: readonly Step[], defaultNs: string, sel: NodeSelector): Element {
  const { taken, elements } = evaluateSteps(doc, steps, defaultNs);
  const [only] = elements;
  const prefix = stepsText(steps.slice(0, taken));
  if (!only) throw new XcapError(404, `no element matches "${prefix}" (node selector "${sel.text}")`);
  if (elements.length > 1) {
    throw new XcapError(404, `"${prefix}" matches ${elements.length} elements; a node selector must select one (add a position or an attribute test)`);
  }
  return only;
}

/**
 * The node selector of the closest ancestor of `steps` that exists as exactly one element, '' when not even
 * the root element matches (then the closest ancestor is the document itself). One pass over the steps.
 */
export function closestAncestor(doc: Document, steps: readonly Step[], defaultNs: string): string {
  const { taken, elements } = evaluateSteps(doc, steps, defaultNs);
  return stepsText(steps.slice(0, elements.length === 1 ? taken : taken - 1));
}

/** RFC 4825 §8.2.1 and §8.4: namespace bindings can only be read. */
export function namespaceWriteRefused(method: 'PUT' | 'DELETE'): XcapError {
  return new XcapError(405, `${method} to namespace::* is not allowed: namespace bindings can only be read (GET)`, undefined, { Allow: 'GET' });
}

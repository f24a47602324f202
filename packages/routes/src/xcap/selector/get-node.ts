/**
 * GET of an element, an attribute or an element's namespace bindings (RFC 4825 §7.6, §7.9, §7.10, §8.3).
 */
import type { Document } from '@xmldom/xmldom';
import { XcapError } from '../xcap-error.js';
import { attributeNode } from './evaluate.js';
import {
  attributeBody,
  namespaceBindingsBody,
  serializeElement,
  XCAP_ATTRIBUTE_TYPE,
  XCAP_ELEMENT_TYPE,
  XCAP_NAMESPACE_TYPE,
} from './fragment.js';
import type { NodeSelector } from './node-selector.js';
import { selectOne } from './selection.js';

/** A node's representation: its content type and body. */
export interface NodeBody {
  readonly contentType: string;
  readonly body: string;
}

/**
 * The node `sel` selects in `doc`.
 * @param defaultNs the application usage's default namespace, that of the selector's unprefixed element names
 * @returns an element as it stands in the document (`application/xcap-el+xml`, no inherited namespace
 *   declarations added), an attribute's value as a double-quoted AttValue (`application/xcap-att+xml`, §7.9), or
 *   the element's namespace bindings (`application/xcap-ns+xml`, §10)
 * @throws XcapError 404 when nothing is selected, or when a step selects more than one element (§6.3, §8.3)
 */
export function getNode(doc: Document, sel: NodeSelector, defaultNs: string): NodeBody {
  const element = selectOne(doc, sel.steps, defaultNs, sel);
  const terminal = sel.terminal;
  if (!terminal) return { contentType: XCAP_ELEMENT_TYPE, body: serializeElement(element) };
  if (terminal.kind === 'namespace') return { contentType: XCAP_NAMESPACE_TYPE, body: namespaceBindingsBody(element) };
  const attr = attributeNode(element, terminal.name);
  if (!attr) throw new XcapError(404, `the element has no attribute "${terminal.name.text}" (node selector "${sel.text}")`);
  return { contentType: XCAP_ATTRIBUTE_TYPE, body: attributeBody(attr.value) };
}

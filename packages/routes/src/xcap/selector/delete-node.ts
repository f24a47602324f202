/**
 * DELETE of an element or an attribute (RFC 4825 §8.4): remove the one node selected, then check that the node
 * selector selects nothing any more, undoing the removal when it still does.
 */
import type { Document, Node } from '@xmldom/xmldom';
import { xcapConflict, XcapError } from '../xcap-error.js';
import { attributeNode, selectElements } from './evaluate.js';
import type { NodeSelector } from './node-selector.js';
import { namespaceWriteRefused, selectOne } from './selection.js';

/**
 * Deletes the node `sel` selects, changing `doc` in place (and leaving it as it was when it throws).
 * @param defaultNs the application usage's default namespace, that of the selector's unprefixed element names
 * @throws XcapError 404 when nothing, or more than one element, is selected; 405 (Allow: GET) for
 *   namespace::*; 409 cannot-delete for the root element (a document needs one: DELETE the document) and when
 *   the selector would select another node after the delete (a position that now names the next sibling)
 */
export function deleteNode(doc: Document, sel: NodeSelector, defaultNs: string): void {
  const terminal = sel.terminal;
  if (terminal?.kind === 'namespace') throw namespaceWriteRefused('DELETE');
  const element = selectOne(doc, sel.steps, defaultNs, sel);
  if (terminal) {
    const attr = attributeNode(element, terminal.name);
    if (!attr) throw new XcapError(404, `the element has no attribute "${terminal.name.text}" (node selector "${sel.text}")`);
    element.removeAttributeNode(attr);
    const still = selectElements(doc, sel.steps, defaultNs).some((e) => attributeNode(e, terminal.name) !== null);
    if (still) {
      element.setAttributeNode(attr);
      throw xcapConflict('cannot-delete', `after the DELETE, "${sel.text}" would select another attribute`);
    }
    return;
  }
  if (element === doc.documentElement) {
    throw xcapConflict('cannot-delete', 'the root element cannot be deleted: a document needs one (DELETE the document instead)');
  }
  const parent = element.parentNode as Node;
  const next = element.nextSibling;
  parent.removeChild(element);
  if (selectElements(doc, sel.steps, defaultNs).length > 0) {
    parent.insertBefore(element, next);
    throw xcapConflict('cannot-delete', `after the DELETE, "${sel.text}" would select another element (select it by an attribute rather than by position)`);
  }
}

/**
 * The pidf-manipulation application usage (RFC 4827): a presence document (PIDF, RFC 3863) a user writes for
 * the presence server to compose. Its root names the presentity (`entity`); its tuples carry an id unique in the document (the schema's xs:ID) and a
 * `<status>`.
 */
import { xcapConflict } from '../xcap-error.js';
import { checkRoot, checkUniqueAmongSiblings, requireAttribute } from './checks.js';
import { elementChildren, isElement, type XcapUsage } from './usage.js';

export const PIDF_NS = 'urn:ietf:params:xml:ns:pidf';

export const pidfManipulationUsage: XcapUsage = {
  auid: 'pidf-manipulation',
  mimeType: 'application/pidf+xml',
  namespace: PIDF_NS,
  rootElement: 'presence',
  validate(doc) {
    const root = checkRoot(doc, pidfManipulationUsage);
    requireAttribute(root, 'entity');
    for (const tuple of elementChildren(root).filter((c) => isElement(c, PIDF_NS, 'tuple'))) {
      requireAttribute(tuple, 'id');
      if (!elementChildren(tuple).some((c) => isElement(c, PIDF_NS, 'status'))) {
        throw xcapConflict('schema-validation-error', `the <tuple> "${tuple.getAttribute('id')}" must hold a <status>`);
      }
    }
    checkUniqueAmongSiblings(root, PIDF_NS, 'tuple', 'id', PIDF_NS, true);
  },
};

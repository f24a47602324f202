export { xcap, type XcapOptions } from './xcap.js';
export { XcapError, xcapConflict, conflictDocument, type XcapConflict, type XcapConflictTag } from './xcap-error.js';
export { parseXcapUri, type XcapUri } from './uri.js';
export {
  STORED_USAGES,
  resourceListsUsage,
  rlsServicesUsage,
  presRulesUsage,
  omaPresRulesUsage,
  pidfManipulationUsage,
  type ComposedDocument,
  type GenerateContext,
  type UniqueValue,
  type ValidationContext,
  type XcapUsage,
} from './usages/index.js';
export { parseXml, serializeXml } from './xml.js';
export {
  parseNamespaceBindings,
  parseNodeSelector,
  getNode,
  putNode,
  deleteNode,
  XCAP_ELEMENT_TYPE,
  XCAP_ATTRIBUTE_TYPE,
  XCAP_NAMESPACE_TYPE,
  type NodeSelector,
  type QName,
  type Step,
  type Terminal,
  type NodeBody,
  type AncestorUri,
} from './selector/index.js';

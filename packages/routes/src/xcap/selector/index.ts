export { parseNamespaceBindings } from './namespace-bindings.js';
export { parseNodeSelector, type NodeSelector, type QName, type Step, type Terminal } from './node-selector.js';
export { getNode, type NodeBody } from './get-node.js';
export { putNode, type AncestorUri } from './put-node.js';
export { deleteNode } from './delete-node.js';
export { XCAP_ELEMENT_TYPE, XCAP_ATTRIBUTE_TYPE, XCAP_NAMESPACE_TYPE } from './fragment.js';

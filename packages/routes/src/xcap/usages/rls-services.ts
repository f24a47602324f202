/**
 * The rls-services application usage (RFC 4826 §4): resource list services, each a SIP URI for a list given
 * in place (`<list>`) or by reference (`<resource-list>`, an HTTP URI of a list in a resource-lists document).
 * §4.4.5's constraints checked here: a service's URI is unique within the document (uniqueness-failure, with
 * an alternative offered), a `<resource-list>` is an absolute HTTP URI with a node selector whose AUID segment is
 * resource-lists and, for a document in a user's tree, whose XUI is that document's. Not checked: the uniqueness
 * of a service URI across every document of the server (§4.4.5's first rule), which needs them all read.
 */
import { xcapConflict } from '../xcap-error.js';
import { checkRoot, checkUniqueAmongSiblings, isAbsoluteUri, isHttpUri, requireAttribute } from './checks.js';
import { checkList } from './resource-lists.js';
import { elementChildren, type XcapUsage } from './usage.js';

export const RLS_SERVICES_NS = 'urn:ietf:params:xml:ns:rls-services';

export const rlsServicesUsage: XcapUsage = {
  auid: 'rls-services',
  mimeType: 'application/rls-services+xml',
  namespace: RLS_SERVICES_NS,
  rootElement: 'rls-services',
  extraNamespaces: ['urn:ietf:params:xml:ns:resource-lists'],
  validate(doc, { uri: documentUri }) {
    const root = checkRoot(doc, rlsServicesUsage);
    for (const service of elementChildren(root)) {
      if (service.namespaceURI !== RLS_SERVICES_NS || service.localName !== 'service') {
        throw xcapConflict('schema-validation-error', `<rls-services> holds only <service> elements, got <${service.nodeName}>`);
      }
      const uri = requireAttribute(service, 'uri');
      if (!isAbsoluteUri(uri)) throw xcapConflict('constraint-failure', `the uri "${uri}" of <service> must be an absolute URI`);
      const own = elementChildren(service).filter((c) => c.namespaceURI === RLS_SERVICES_NS);
      const first = own[0];
      if (first === undefined || (first.localName !== 'list' && first.localName !== 'resource-list')) {
        throw xcapConflict('schema-validation-error', '<service> holds a <list> or a <resource-list> first');
      }
      if (first.localName === 'list') checkList(first);
      else {
        const target = (first.textContent ?? '').trim();
        const problem = resourceListProblem(target, documentUri.scope === 'users' ? documentUri.xui : undefined);
        if (problem !== undefined) throw xcapConflict('constraint-failure', `the <resource-list> "${target}" ${problem}`);
      }
      for (const rest of own.slice(1)) {
        if (rest.localName !== 'packages' || rest !== own[1]) throw xcapConflict('schema-validation-error', `<${rest.localName}> is not allowed here in a <service>`);
      }
    }
    checkUniqueAmongSiblings(root, RLS_SERVICES_NS, 'service', 'uri', RLS_SERVICES_NS, true);
  },
};

/**
 * What is wrong with a `<resource-list>` URI, RFC 4826 §4.4.5: "The server MUST verify that the URI path contains
 * "resource-lists" in the path segment corresponding to the AUID. If the RLS services document is within the XCAP
 * user tree ..., the server MUST verify that the XUI in the path is the same as the XUI in the URI of to the RLS
 * services document." The XCAP root may be any path, so the AUID segment is the one before `users` or `global`.
 * @param xui the XUI of the RLS services document; undefined for a global one
 */
function resourceListProblem(target: string, xui: string | undefined): string | undefined {
  if (!isHttpUri(target) || !target.includes('/~~/')) return 'must be the HTTP URI of a <list> in a resource-lists document';
  const segments = new URL(target).pathname.split('/~~/')[0]!.split('/');
  const at = segments.findIndex((s, i) => i > 0 && (s === 'users' || s === 'global') && segments[i - 1] === 'resource-lists');
  if (at < 0) return 'must name a document of the resource-lists application usage (…/resource-lists/users/<xui>/…)';
  if (xui === undefined) return undefined;
  let named: string | undefined;
  try {
    named = segments[at] === 'users' ? decodeURIComponent(segments[at + 1] ?? '') : undefined;
  } catch {
    named = undefined;
  }
  if (named !== xui) return `must name a resource-lists document of ${xui}, the user whose RLS services document this is`;
  return undefined;
}

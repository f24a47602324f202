/**
 * The rls-services application usage (RFC 4826 §4): resource list services, each a SIP URI for a list given
 * in place (`<list>`) or by reference (`<resource-list>`, an HTTP URI of a list in a resource-lists document).
 * §4.4.5's constraints checked here: a service's URI is unique within the document (uniqueness-failure, with
 * an alternative offered), a `<resource-list>` is an absolute HTTP URI with a node selector whose AUID segment is
 * resource-lists and, for a document in a user's tree, whose XUI is that document's. A service's URI is also
 * unique amongst every document on the server (`uniqueOnServer`, claimed by the route module in the storage), and
 * `global/index` is the union of the users' `index` documents (§4.4.8, `composed`).
 */
import type { Document } from '@xmldom/xmldom';
import { xcapConflict } from '../xcap-error.js';
import { checkRoot, checkUniqueAmongSiblings, isAbsoluteUri, isHttpUri, requireAttribute } from './checks.js';
import { checkList, RESOURCE_LISTS_NS } from './resource-lists.js';
import { parseXml, serializeXml } from '../xml.js';
import { elementChildren, isElement, selectorTo, type XcapUsage } from './usage.js';

export const RLS_SERVICES_NS = 'urn:ietf:params:xml:ns:rls-services';

export const rlsServicesUsage: XcapUsage = {
  auid: 'rls-services',
  mimeType: 'application/rls-services+xml',
  namespace: RLS_SERVICES_NS,
  rootElement: 'rls-services',
  extraNamespaces: [RESOURCE_LISTS_NS],
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
  uniqueOnServer: (doc) =>
    servicesOf(doc).flatMap((service) => {
      const uri = service.getAttribute('uri');
      return uri === null ? [] : [{ value: uri, field: `${selectorTo(service, RLS_SERVICES_NS)}/@uri`, attribute: 'uri', element: 'service' }];
    }),
  composed: [{ document: 'index', from: 'index', compose: unionOfServices }],
};

function servicesOf(doc: Document) {
  return elementChildren(doc.documentElement!).filter((c) => isElement(c, RLS_SERVICES_NS, 'service'));
}

/**
 * §4.4.8: "each <service> element in a user document will also be present as a <service> element in the global
 * document. The inverse is true as well." Each is copied as it stands (a prefix its document declared is declared
 * again on it by the serializer when the global root does not bind it alike).
 */
function unionOfServices(documents: readonly Document[]): string {
  const global = parseXml(
    Buffer.from(`<rls-services xmlns="${RLS_SERVICES_NS}" xmlns:rl="${RESOURCE_LISTS_NS}"/>`),
  );
  const root = global.documentElement!;
  for (const doc of documents) {
    for (const service of servicesOf(doc)) {
      root.appendChild(global.createTextNode('\n '));
      root.appendChild(global.importNode(service, true));
    }
  }
  if (root.firstChild !== null) root.appendChild(global.createTextNode('\n'));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeXml(global)}\n`;
}

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
